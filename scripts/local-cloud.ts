// `npm run cloud`: only the embedded DynamoDB + SQS on one endpoint (like `docker run localstack`),
// provisioned from serverless.yml. The test suite starts it on a free port with --json.
import { parseArgs } from 'node:util';
import { startLocalCloud } from '../local/cloud.ts';
import { provisionResources } from '../local/provision.ts';
import { loadServiceConfig } from '../local/service-config.ts';
import { readStackSettings } from '../local/settings.ts';
import { assertNoInterruptedMigration, removeStackFile, writeStackFile } from '../local/running-stack.ts';
import { describeStrict } from '../local/strict/settings.ts';

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      'no-provision': { type: 'boolean', default: false },
    },
  });
  const settings = readStackSettings(process.env);
  assertNoInterruptedMigration(settings.dataDir);
  const cloud = await startLocalCloud({
    dataDir: settings.dataDir,
    port: settings.cloudPort,
    host: settings.host,
    region: settings.region,
    ...(settings.strict ? { strict: settings.strict } : {}),
  });
  const config = await loadServiceConfig({ stage: settings.stage });
  if (!values['no-provision']) {
    await provisionResources({ endpoint: cloud.endpoint, region: settings.region, resources: config.resources });
  }
  // Where `npm run redrive` and the aws-cli users of this machine find it (local/running-stack.ts).
  writeStackFile(settings.dataDir, {
    pid: process.pid,
    stage: settings.stage,
    started_at: new Date().toISOString(),
    cloud: cloud.endpoint,
    dynamodb: cloud.dynamodbEndpoint,
    sqs: cloud.sqsEndpoint,
  });
  if (values.json) {
    console.log(
      JSON.stringify({
        ready: true,
        endpoint: cloud.endpoint,
        // dynalite itself, behind the endpoint (and so behind strict mode): for tests that compare.
        dynamodb: cloud.dynamodbEndpoint,
        environment: config.environment,
        region: settings.region,
        strict: settings.strict ?? null,
      }),
    );
  } else {
    console.log(`local cloud ready on ${cloud.endpoint} (stage ${settings.stage}, data in ${settings.dataDir}); Ctrl-C stops`);
    if (settings.strict) console.log(`${describeStrict(settings.strict)}; faults counted at ${cloud.endpoint}/_strict`);
  }
  const stop = (): void => {
    removeStackFile(settings.dataDir, process.pid);
    if (cloud.strict && !values.json) console.log(`strict mode injected: ${cloud.strict.faults.summary()}`);
    void cloud.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

main().catch((error: unknown) => {
  console.error(`local cloud failed: ${(error as Error).message}`);
  process.exit(1);
});
