// `npm run migrate` on a data folder the previous version wrote (its table layout and item layout,
// rebuilt here as that version created them): the stack refuses the old table and names the command;
// the command, interrupted where it hurts most (table deleted, items only in its backup), resumes and
// ends with every event reading back exactly as before, the live tail listing them in the order they
// were stored, every record and counter as it was; run again, it has nothing to do.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoEventStore } from '../../lib/table/events-repo.ts';
import { freePort, projectRoot, spawnScript, stopProcess, waitForLine } from '../support/processes.ts';

jest.setTimeout(180_000);

const STAGE = 'migrate';
const TABLE = `log-aggregator-${STAGE}-events`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-migrate-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const env = (port: number) => ({ DATA_DIR: dataDir, CLOUD_PORT: String(port), STAGE });

/** The embedded cloud on the data folder; provisioning from serverless.yml unless told not to. */
const withCloud = async <T>(provision: boolean, use: (client: DynamoDBDocumentClient, endpoint: string) => Promise<T>): Promise<T> => {
  const port = await freePort();
  const cloud = spawnScript('scripts/local-cloud.ts', ['--json', ...(provision ? [] : ['--no-provision'])], env(port));
  try {
    const line = await waitForLine(cloud, /^\{"ready":true/, 60_000);
    const endpoint = (JSON.parse(line) as { endpoint: string }).endpoint;
    const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      return await use(DynamoDBDocumentClient.from(raw), endpoint);
    } finally {
      raw.destroy();
    }
  } finally {
    await stopProcess(cloud);
  }
};

// The previous version's table: three time indexes projecting whole items, one per event each.
const OLD_TABLE = {
  TableName: TABLE,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [
    ...['pk', 'topic', 'tsk', 'rsh', 'rsk', 'ash', 'ask', 'tix', 'tname', 'vsh'].map((name) => ({ AttributeName: name, AttributeType: 'S' as 'S' | 'N' })),
    { AttributeName: 'received', AttributeType: 'N' as 'S' | 'N' },
  ],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
  GlobalSecondaryIndexes: [
    ['byTopicTime', 'topic', 'tsk', 'ALL'],
    ['recent', 'rsh', 'rsk', 'ALL'],
    ['arrival', 'ash', 'ask', 'ALL'],
    ['topicNames', 'tix', 'tname', 'KEYS_ONLY'],
    ['topicVolume', 'vsh', 'received', 'ALL'],
  ].map(([IndexName, hash, range, projection]) => ({
    IndexName,
    KeySchema: [
      { AttributeName: hash!, KeyType: 'HASH' as const },
      { AttributeName: range!, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: projection as 'ALL' | 'KEYS_ONLY' },
  })),
};

const BATCHES = ['01KBQ7A0000000000000000001', '01KBQ7A0000000000000000002'];
// Events as the previous version stored them: in two messages, over two topics, some with odd payloads.
const oldEvents = Array.from({ length: 12 }, (_, i) => {
  const topic = i % 2 === 0 ? 'orders' : 'payments';
  const second = String(i).padStart(2, '0');
  const timestamp = `2026-11-20T10:00:${second}.5Z`;
  const sortable = `2026-11-20T10:00:${second}.500000000Z`;
  const storedAt = `2026-11-20T10:05:00.${String(i * 10).padStart(3, '0')}Z`;
  const id = `evt-${i}`;
  return {
    pk: `${topic}#${id}`,
    topic,
    tsk: `${sortable}#${id}`,
    rsh: `r#${i % 8}`,
    rsk: `${sortable}#${topic}#${id}`,
    ash: `a#${i % 4}`,
    ask: `${storedAt}#${topic}#${id}`,
    event_id: id,
    timestamp,
    source: `svc-${i % 3}`,
    payload: JSON.stringify({ i, note: 'ünïcødé ✓', big: 12345678901234, nested: { list: [1, 2.5, null, true] } }),
    delivery: `${BATCHES[i < 6 ? 0 : 1]}:${i % 6}`,
    stored_at: storedAt,
  };
});
const otherItems = [
  { pk: `#record#${BATCHES[0]}`, at: '2026-11-20T10:05:00.100Z', folded: true, expires_at: 1_900_000_000, totals: { received: 6, unique: 6, duplicate: 0 } },
  { pk: '#total#0', v: 3, received: 12, unique: 12, duplicate: 0, first_at: '2026-11-20T10:05:00.000Z' },
  { pk: '#topic#orders', v: 2, received: 6, unique: 6, duplicate: 0, tix: 't', tname: 'orders', vsh: 'v#1', received_at: 'x' },
];

it('upgrades a data folder the previous version wrote, exactly, and survives a crash half-way', async () => {
  await withCloud(false, async (client) => {
    await client.send(new CreateTableCommand(OLD_TABLE));
    for (const item of [...oldEvents, ...otherItems]) await client.send(new PutCommand({ TableName: TABLE, Item: item }));
  });

  // The stack (and the suite's cloud) refuse the old table and say what to do.
  const refused = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/local-cloud.ts', '--json'], { cwd: projectRoot, env: { ...process.env, ...env(await freePort()) }, encoding: 'utf8' });
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toMatch(/lacks the index\(es\) topicEvents, allEvents, tailItems.*npm run migrate/s);

  const migrate = (extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { cwd: projectRoot, env: { ...process.env, DATA_DIR: dataDir, STAGE, ...extra }, encoding: 'utf8' });
  // Killed after it deleted the old table: the items are only in its backup now.
  const crashed = migrate({ MIGRATE_TEST_CRASH: 'after-delete' });
  expect(crashed.status).toBe(70);
  expect(crashed.stdout).toContain('backed up 15 items');
  // Nothing starts on the half-rebuilt table, which the migration run again would rebuild from its backup.
  const halfway = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/local-cloud.ts', '--json'], { cwd: projectRoot, env: { ...process.env, ...env(await freePort()) }, encoding: 'utf8' });
  expect(halfway.status).not.toBe(0);
  expect(halfway.stderr).toMatch(/a migration of .* was interrupted .*run `npm run migrate` again to finish it/s);
  const resumed = migrate();
  expect(resumed.stdout).toContain('resuming an interrupted migration');
  expect(resumed.stdout).toMatch(/12 of 12 events to rewrite, 2 tail items to add, 3 items as they are/);
  expect(resumed.stdout).toContain('done: every event reads back as before');
  expect(resumed.status).toBe(0);
  expect(readdirSync(path.join(dataDir, 'migration')).filter((file) => file.startsWith('backup-'))).toHaveLength(1);

  await withCloud(true, async (client) => {
    const store = new DynamoEventStore(client, TABLE);
    const now = new Date('2026-12-01T00:00:00Z');
    const expected = (item: (typeof oldEvents)[number]) => ({
      topic: item.topic,
      event_id: item.event_id,
      timestamp: item.timestamp,
      source: item.source,
      payload: JSON.parse(item.payload) as unknown,
      delivery: item.delivery,
      stored_at: item.stored_at,
    });
    const budget = { maxExamined: 1_000, deadline: Date.now() + 60_000 };
    for (const topic of ['orders', 'payments']) {
      const page = await store.queryTopic({ topic, limit: 100, descending: false, ...budget }, now);
      expect(page.events).toEqual(oldEvents.filter((item) => item.topic === topic).map(expected));
    }
    const all = await store.queryRecent({ limit: 100, descending: false, ...budget }, now);
    expect(all.events.map((event) => event.event_id)).toEqual(oldEvents.map((item) => item.event_id));
    // The tail lists them by message, in the order each message carried them.
    const tail = await store.tail({ limit: 100, storedBefore: '2026-12-01T00:00:00Z', ...budget }, now);
    expect(tail.events.map((event) => event.event_id)).toEqual(oldEvents.map((item) => item.event_id));
    // Records and counters: as they were.
    for (const item of otherItems) expect((await client.send(new GetCommand({ TableName: TABLE, Key: { pk: item.pk } }))).Item).toEqual(item);
  });

  const again = migrate();
  expect(again.status).toBe(0);
  expect(again.stdout).toContain("already in this version's layout: nothing to do");
});

it('copies an earlier stage\'s table into a new stage\'s empty one (as on AWS), and refuses to copy over items', async () => {
  // The new stage: this version's table, provisioned and empty, in a data folder of its own; the old
  // stage's table beside it in the same local cloud, under another name.
  const newDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-copy-'));
  const port = await freePort();
  const cloud = spawnScript('scripts/local-cloud.ts', ['--json'], { DATA_DIR: newDir, CLOUD_PORT: String(port), STAGE });
  try {
    const endpoint = (JSON.parse(await waitForLine(cloud, /^\{"ready":true/, 60_000)) as { endpoint: string }).endpoint;
    const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const client = DynamoDBDocumentClient.from(raw);
    const OLD = `${TABLE}-old`;
    await client.send(new CreateTableCommand({ ...OLD_TABLE, TableName: OLD }));
    for (const item of [...oldEvents, ...otherItems]) await client.send(new PutCommand({ TableName: OLD, Item: item }));
    const copy = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts', '--from-table', OLD], {
        cwd: projectRoot,
        env: { ...process.env, STAGE, AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
        encoding: 'utf8',
      });
    const copied = copy();
    expect(copied.stdout).toMatch(/12 of 12 events to rewrite, 2 tail items to add, 3 items as they are; into log-aggregator-migrate-events/);
    expect(copied.stdout).toContain(`done: ${TABLE} holds every item of ${OLD}`);
    expect(copied.status).toBe(0);
    const store = new DynamoEventStore(client, TABLE);
    const page = await store.queryRecent({ limit: 100, descending: false, maxExamined: 1_000, deadline: Date.now() + 60_000 }, new Date('2026-12-01T00:00:00Z'));
    expect(page.events.map((event) => event.event_id)).toEqual(oldEvents.map((item) => item.event_id));
    // Again, now that the new table holds items: refused, and nothing written.
    await client.send(new PutCommand({ TableName: TABLE, Item: { ...otherItems[1]!, received: 99 } }));
    const again = copy();
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`${TABLE} already holds items: copy only into the new stage's empty table`);
    expect((await client.send(new GetCommand({ TableName: TABLE, Key: { pk: otherItems[1]!.pk } }))).Item?.received).toBe(99);
    raw.destroy();
  } finally {
    await stopProcess(cloud);
    rmSync(newDir, { recursive: true, force: true });
  }
});
