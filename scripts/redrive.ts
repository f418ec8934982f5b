// `npm run redrive`: moves dead-lettered messages back to the main queue, where they are processed
// again with exact counts (see lib/queue/redrive.ts). Works against the stack running on this machine
// (found from its data folder, whatever its ports), an endpoint you name (AWS_ENDPOINT_URL, or
// CLOUD_PORT on this machine), or, for a stage that is not local, the stage's queues on AWS.
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig } from '../lib/app/config.ts';
import { redriveDeadLetters } from '../lib/queue/redrive.ts';
import { findRunningStack } from '../local/running-stack.ts';
import { loadServiceConfig } from '../local/service-config.ts';
import { dataDirFrom } from '../local/settings.ts';

const LOCAL_STAGES = new Set(['local', 'test', 'e2e', 'chaos']);

/** No stack to talk to: the message says what to do, nothing to add. */
class NotRunning extends Error {}

/** Which endpoint and stage: named ones first, then the running stack, then AWS for a deployed stage. */
const target = async (stageOption: string | undefined): Promise<{ stage: string; endpoint?: string; why: string }> => {
  const env = process.env;
  const stage = stageOption ?? env.STAGE;
  if (env.AWS_ENDPOINT_URL) return { stage: stage ?? 'local', endpoint: env.AWS_ENDPOINT_URL, why: 'AWS_ENDPOINT_URL' };
  if (stage !== undefined && !LOCAL_STAGES.has(stage)) return { stage, why: `stage ${stage} on AWS` };
  if (env.CLOUD_PORT) return { stage: stage ?? 'local', endpoint: `http://127.0.0.1:${env.CLOUD_PORT}`, why: 'CLOUD_PORT' };
  const found = await findRunningStack(dataDirFrom(env), 'cloud');
  if (!found.ok) {
    throw new NotRunning(
      `${found.why}. Start it with \`npm start\` (or \`npm run cloud\`), or say where it runs: CLOUD_PORT=<port> or AWS_ENDPOINT_URL=<url> (and DATA_DIR when it keeps its data elsewhere); for a stage deployed on AWS, --stage <stage>.`,
    );
  }
  if (stage !== undefined && stage !== found.stack.stage) {
    throw new NotRunning(`${found.description} is stage ${found.stack.stage}, not ${stage}: leave --stage out, or start that stage`);
  }
  return { stage: found.stack.stage, endpoint: found.url, why: found.description };
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      max: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run redrive -- [--stage STAGE] [--max N]\nMoves messages from the dead-letter queue back to the events queue, on the stack running\n' +
        'from DATA_DIR (default .data), or at AWS_ENDPOINT_URL / CLOUD_PORT, or on AWS for a stage that is not local.',
    );
    return;
  }
  const { stage, endpoint, why } = await target(values.stage);
  console.log(`using ${endpoint ?? 'AWS'} (${why})`);
  const config = await loadServiceConfig({ stage });
  // The functions' own configuration, validated the same way (the horizon is derived there).
  const { QUEUE_NAME, DLQ_NAME, DEDUP_HORIZON_SECONDS } = loadConfig(config.environment);
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
  console.error(`redrive failed: ${(error as Error).message}${error instanceof NotRunning ? '' : '. Is the aggregator running (npm start)?'}`);
  process.exit(1);
});
