// The embedded DynamoDB (dynalite 4 on LevelDB) must release the LevelDB iterator of every query.
// dynalite 4.0.0 never did (it called a return() that abstract-level iterators do not have), so each
// query pinned the memtables and table files current at the time: in a 60,000-event run with
// /stats polled, the local cloud held 490 MB of anonymous memory and 670 MB of table files that
// compaction could not delete, against 210 MB and 46 MB with the fix in patches/ (applied by
// `npm install` through patch-package). This runs the real dynalite in this process and counts the
// LevelDB resources (iterators, batches) it leaves open, through abstract-level's own bookkeeping.
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { AbstractLevel } from 'abstract-level';
import dynalite from 'dynalite';

const open = new Set<object>();
const attach = AbstractLevel.prototype.attachResource;
const detach = AbstractLevel.prototype.detachResource;

let server: http.Server;
let client: DynamoDBClient;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'embedded-dynamodb-'));

beforeAll(async () => {
  AbstractLevel.prototype.attachResource = function (this: AbstractLevel<unknown, unknown, unknown>, resource: object) {
    open.add(resource);
    return attach.call(this, resource as never);
  };
  AbstractLevel.prototype.detachResource = function (this: AbstractLevel<unknown, unknown, unknown>, resource: object) {
    open.delete(resource);
    return detach.call(this, resource as never);
  };
  server = dynalite({ path: dataDir, createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: 'iterators',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'topic', AttributeType: 'S' },
        { AttributeName: 'ts', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        { IndexName: 'byTopic', KeySchema: [{ AttributeName: 'topic', KeyType: 'HASH' }, { AttributeName: 'ts', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } },
      ],
    }),
  );
  for (let i = 0; i < 30; i += 1) {
    await client.send(new PutItemCommand({ TableName: 'iterators', Item: { pk: { S: `e${i}` }, topic: { S: 'a' }, ts: { S: String(i).padStart(3, '0') } } }));
  }
});

afterAll(async () => {
  AbstractLevel.prototype.attachResource = attach;
  AbstractLevel.prototype.detachResource = detach;
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

it('closes the iterator of every query, whether it reads to the end or stops at its limit', async () => {
  const before = open.size;
  for (let i = 0; i < 50; i += 1) {
    // To the end of the partition, and stopped after 5 of 30 items.
    await client.send(new QueryCommand({ TableName: 'iterators', IndexName: 'byTopic', KeyConditionExpression: 'topic = :t', ExpressionAttributeValues: { ':t': { S: 'a' } } }));
    await client.send(new QueryCommand({ TableName: 'iterators', IndexName: 'byTopic', KeyConditionExpression: 'topic = :t', ExpressionAttributeValues: { ':t': { S: 'a' } }, Limit: 5 }));
  }
  // Closing is asynchronous (the stream's destroy); give it a moment to finish.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(open.size - before).toBe(0);
});
