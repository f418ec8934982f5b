// `npm run migrate`: upgrades a table written by an earlier version to this version's layout
// (lib/table/migrate.ts, docs/deploy.md "Upgrading the table"), exactly.
//
// - In place, the default: the embedded DynamoDB in DATA_DIR, with the stack stopped. The embedded
//   DynamoDB cannot change an existing table's indexes, so the command copies every item to a backup
//   file in DATA_DIR/migration first, then recreates the table from serverless.yml and writes the
//   items back in the new layout. Interrupted, it resumes from the backup; done, it keeps the backup
//   (renamed with the date) for you to delete.
// - Copy, `--from-table <name>`: from a table an earlier version wrote into this stage's table (for
//   AWS, where an index change takes several deploys: deploy this version as a new stage, then copy
//   the old stage's table into it). AWS_ENDPOINT_URL points elsewhere (LocalStack) when set.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../lib/table/batch.ts';
import { isLegacyTable, planMigration, verifyMigration } from '../lib/table/migrate.ts';
import { PK } from '../lib/table/schema.ts';
import { startLocalCloud } from '../local/cloud.ts';
import { freePort } from '../local/ports.ts';
import { provisionResources } from '../local/provision.ts';
import { migrationBackup, readStackFile } from '../local/running-stack.ts';
import { loadServiceConfig } from '../local/service-config.ts';
import { readStackSettings } from '../local/settings.ts';

type Item = Record<string, unknown>;

const HELP = `usage: npm run migrate [-- options]

Upgrades the table an earlier version wrote to this version's layout, exactly (docs/deploy.md).

  (no option)          the embedded table in DATA_DIR (default .data), in place; stop the stack first
  --from-table NAME    copy the table NAME into this stage's table (STAGE), converting as it goes;
                       on AWS with your credentials, or at AWS_ENDPOINT_URL
  -h, --help`;

const log = (line: string): void => console.log(line);

// The backup keeps items as the document client reads them; binary values as base64.
const toJson = (items: Item[]): string =>
  items.map((item) => JSON.stringify(item, (_key, value: unknown) => (value instanceof Uint8Array ? { $b64: Buffer.from(value).toString('base64') } : value))).join('\n');
const fromJson = (text: string): Item[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line, (_key, value: unknown) => (value && typeof value === 'object' && '$b64' in value ? new Uint8Array(Buffer.from(String((value as { $b64: string }).$b64), 'base64')) : value)) as Item);

const scanAll = async (client: DynamoDBDocumentClient, table: string, what: string): Promise<Item[]> => {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
    process.stdout.write(`\r${what}: ${items.length} items`);
  } while (start);
  process.stdout.write('\n');
  return items;
};

const write = async (client: DynamoDBDocumentClient, table: string, items: Item[]): Promise<void> => {
  for (let at = 0; at < items.length; at += 500) {
    await batchWriteAll(client, table, items.slice(at, at + 500).map((item) => ({ PutRequest: { Item: item } })));
    process.stdout.write(`\rwriting: ${Math.min(at + 500, items.length)} of ${items.length} items`);
  }
  process.stdout.write('\n');
};

const check = async (client: DynamoDBDocumentClient, table: string, before: Item[], planned: number): Promise<void> => {
  const after = await scanAll(client, table, 'checking');
  const problems = verifyMigration(before, new Map(after.map((item) => [String(item[PK]), item])));
  if (after.length < planned) problems.push(`${planned} items were written, ${after.length} are there`);
  if (problems.length > 0) throw new Error(`the migrated table is not what it should be:\n  ${problems.slice(0, 20).join('\n  ')}`);
};

const inPlace = async (): Promise<void> => {
  const settings = readStackSettings(process.env);
  const running = readStackFile(settings.dataDir);
  if (running) {
    let alive = true;
    try {
      process.kill(running.pid, 0);
    } catch {
      alive = false;
    }
    if (alive) throw new Error(`a stack is running from ${settings.dataDir} (pid ${running.pid}): stop it (Ctrl-C), then run npm run migrate again`);
  }
  if (!existsSync(path.join(settings.dataDir, 'dynamodb'))) {
    log(`nothing to migrate: ${settings.dataDir} holds no table`);
    return;
  }
  const config = await loadServiceConfig({ stage: settings.stage });
  const table = config.environment.TABLE_NAME!;
  const horizon = Number(config.environment.QUEUE_RETENTION_SECONDS) + Number(config.environment.DLQ_RETENTION_SECONDS);
  const migrationDir = path.join(settings.dataDir, 'migration');
  const backup = migrationBackup(settings.dataDir);
  const cloud = await startLocalCloud({ dataDir: settings.dataDir, port: await freePort(), region: settings.region });
  const raw = new DynamoDBClient({ endpoint: cloud.endpoint, region: settings.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const client = DynamoDBDocumentClient.from(raw);
  try {
    let items: Item[];
    if (existsSync(backup)) {
      items = fromJson(readFileSync(backup, 'utf8'));
      log(`resuming an interrupted migration from ${backup} (${items.length} items)`);
    } else {
      try {
        await raw.send(new DescribeTableCommand({ TableName: table }));
      } catch (error) {
        if (error instanceof ResourceNotFoundException) {
          log(`nothing to migrate: ${settings.dataDir} has no table ${table}`);
          return;
        }
        throw error;
      }
      items = await scanAll(client, table, `reading ${table}`);
      const { Table } = await raw.send(new DescribeTableCommand({ TableName: table }));
      const indexes = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
      const wanted = ((config.resources.EventsTable?.Properties.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string }>).map((index) => index.IndexName);
      if (!isLegacyTable(items) && wanted.every((name) => indexes.has(name)) && indexes.size === wanted.length) {
        log(`${table} in ${settings.dataDir} is already in this version's layout: nothing to do`);
        return;
      }
      mkdirSync(migrationDir, { recursive: true });
      writeFileSync(`${backup}.tmp`, toJson(items));
      renameSync(`${backup}.tmp`, backup);
      log(`backed up ${items.length} items to ${backup}`);
    }
    const plan = planMigration(items, horizon);
    log(`${plan.legacyEvents} of ${plan.events} events to rewrite, ${plan.tailItems} tail items to add, ${plan.unchanged} items as they are`);
    try {
      await raw.send(new DeleteTableCommand({ TableName: table }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    // The test's way to die where a crash would hurt most (the table gone, the items only in the backup).
    if (process.env.MIGRATE_TEST_CRASH === 'after-delete') process.exit(70);
    await provisionResources({ endpoint: cloud.endpoint, region: settings.region, resources: config.resources });
    log(`recreated ${table} with this version's indexes`);
    await write(client, table, plan.items);
    await check(client, table, items, plan.items.length);
    const kept = path.join(migrationDir, `backup-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
    renameSync(backup, kept);
    log(`done: every event reads back as before. The backup stays in ${kept}; delete it when you no longer want it.`);
  } finally {
    client.destroy();
    await cloud.stop();
  }
};

const copy = async (from: string): Promise<void> => {
  const stage = process.env.STAGE ?? 'local';
  const config = await loadServiceConfig({ stage });
  const table = config.environment.TABLE_NAME!;
  if (from === table) throw new Error(`--from-table ${from} is this stage's own table; copy from the old stage's table into a new one`);
  const horizon = Number(config.environment.QUEUE_RETENTION_SECONDS) + Number(config.environment.DLQ_RETENTION_SECONDS);
  const raw = new DynamoDBClient({});
  const client = DynamoDBDocumentClient.from(raw);
  try {
    // Into an empty table only: the copy writes every item as it was (counters, records, events with
    // their delivery ids), so over events and counts the new stage has taken itself it would undo them.
    const { Items } = await client.send(new ScanCommand({ TableName: table, Limit: 1 }));
    if ((Items ?? []).length > 0) {
      throw new Error(
        `${table} already holds items: copy only into the new stage's empty table, before publishers point at it. ` +
          'To copy again, remove the new stage and deploy it afresh (its table is retained: delete it too)',
      );
    }
    const items = await scanAll(client, from, `reading ${from}`);
    const plan = planMigration(items, horizon);
    log(`${plan.legacyEvents} of ${plan.events} events to rewrite, ${plan.tailItems} tail items to add, ${plan.unchanged} items as they are; into ${table}`);
    await write(client, table, plan.items);
    await check(client, table, items, plan.items.length);
    log(`done: ${table} holds every item of ${from}, every event reading back as before; ${from} is unchanged`);
  } finally {
    client.destroy();
  }
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { 'from-table': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) return log(HELP);
  if (values['from-table']) await copy(values['from-table']);
  else await inPlace();
};

main().catch((error: unknown) => {
  console.error(`migrate failed: ${(error as Error).message}`);
  process.exit(1);
});
