// Starts the embedded DynamoDB + SQS (the same local cloud `npm start` uses) on a free port with a
// fresh data folder, provisions it from serverless.yml (stage "test"), and hands its endpoint and the
// functions' environment to the tests. No mocks of DynamoDB or SQS anywhere.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnScript, waitForLine } from './processes.ts';

export default async (): Promise<void> => {
  // Strict mode (CLOUD_STRICT=1): one seed for every process of the run (this cloud, and each stack a
  // test starts), drawn here unless given, and printed so that a failing run can be repeated.
  if (/^(1|true)$/.test(process.env.CLOUD_STRICT ?? '')) {
    process.env.CLOUD_STRICT_SEED ??= String(Math.floor(Math.random() * 2 ** 31));
    process.stderr.write(`\nstrict mode: the local cloud injects AWS's faults; repeat this run with CLOUD_STRICT_SEED=${process.env.CLOUD_STRICT_SEED}\n`);
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-test-'));
  const port = await freePort();
  const cloud = spawnScript('scripts/local-cloud.ts', ['--json'], { DATA_DIR: dataDir, CLOUD_PORT: String(port), STAGE: 'test' });
  const line = await waitForLine(cloud, /^\{"ready":true/, 120_000);
  const ready = JSON.parse(line) as { endpoint: string; environment: Record<string, string>; region: string; strict: { seed: number } | null };
  Object.assign(process.env, ready.environment, {
    ...(ready.strict ? { DEPLOYMENT_NOTICE: `local cloud in strict mode (CLOUD_STRICT_SEED=${ready.strict.seed})` } : {}),
    AWS_ENDPOINT_URL: ready.endpoint,
    AWS_REGION: ready.region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
    TEST_DATA_DIR: dataDir,
  });
  (globalThis as { __localCloud?: unknown }).__localCloud = cloud;
};
