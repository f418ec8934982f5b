// `npm run redrive`: moves dead-lettered messages back to the main queue, where they are processed
// again with exact counts (see lib/queue/redrive.ts). Works against the local cloud (default) or, with
// AWS_ENDPOINT_URL unset and STAGE not local, against the stage's queues on AWS.
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig } from '../lib/app/config.ts';
import { redriveDeadLetters } from '../lib/queue/redrive.ts';
import { loadServiceConfig } from '../local/service-config.ts';

const LOCAL_STAGES = new Set(['local', 'test', 'e2e', 'chaos']);

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string', default: process.env.STAGE ?? 'local' },
      max: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run redrive -- [--stage local] [--max N]\nMoves messages from the dead-letter queue back to the events queue.');
    return;
  }
  const config = await loadServiceConfig({ stage: values.stage! });
  // The functions' own configuration, validated the same way (the horizon is derived there).
  const { QUEUE_NAME, DLQ_NAME, DEDUP_HORIZON_SECONDS } = loadConfig(config.environment);
  const endpoint =
    process.env.AWS_ENDPOINT_URL ?? (LOCAL_STAGES.has(values.stage!) ? `http://127.0.0.1:${process.env.CLOUD_PORT ?? 4566}` : undefined);
  const sqs = new SQSClient({
    region: process.env.AWS_REGION ?? config.region,
    useQueueUrlAsEndpoint: false,
    ...(endpoint ? { endpoint, credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' } } : {}),
  });
  console.log(`redriving ${DLQ_NAME} -> ${QUEUE_NAME}${endpoint ? ` at ${endpoint}` : ' on AWS'} ...`);
  const result = await redriveDeadLetters(sqs, {
    from: DLQ_NAME,
    to: QUEUE_NAME,
    horizonSeconds: DEDUP_HORIZON_SECONDS,
    ...(values.max ? { max: Number(values.max) } : {}),
    onProgress: (moved) => process.stdout.write(`\r  moved ${moved}`),
  });
  console.log(`${result.moved > 0 ? '\n' : ''}moved ${result.moved} message(s); they are processed again with exact counts.`);
  if (result.beyondHorizon > 0) {
    console.warn(
      `warning: ${result.beyondHorizon} message(s) are older than the dedup horizon (${DEDUP_HORIZON_SECONDS}s): if their ` +
        'totals were applied before they were dead-lettered, they may be counted again.',
    );
  }
  sqs.destroy();
};

main().catch((error: unknown) => {
  console.error(`redrive failed: ${(error as Error).message}. Is the aggregator running (npm start)?`);
  process.exit(1);
});
