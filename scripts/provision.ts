// `npm run provision -- --endpoint URL`: creates the table and queues declared in serverless.yml on an
// endpoint that speaks DynamoDB and SQS (LocalStack, the embedded cloud). Idempotent.
import { parseArgs } from 'node:util';
import { provisionResources } from '../local/provision.ts';
import { loadServiceConfig } from '../local/service-config.ts';

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      endpoint: { type: 'string', default: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566' },
      stage: { type: 'string', default: process.env.STAGE ?? 'local' },
      region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
      json: { type: 'boolean', default: false },
    },
  });
  const config = await loadServiceConfig({ stage: values.stage! });
  const result = await provisionResources({ endpoint: values.endpoint!, region: values.region!, resources: config.resources });
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`provisioned on ${values.endpoint}: table ${result.tables.join(', ')}; queues ${Object.values(result.queues).map((q) => q.url).join(', ')}`);
  }
};

main().catch((error: unknown) => {
  console.error(`provisioning failed: ${(error as Error).message}`);
  process.exit(1);
});
