// Settings of the local stack, from the environment, validated once with the variable named on error.
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from './service-config.ts';
import { readStrictSettings, type StrictSettings } from './strict/settings.ts';

const port = z.coerce.number().int().min(0).max(65535);

/** DATA_DIR as the stack resolves it (relative to the project, `.data` unless set): the stack and the clients that look for it there agree. */
export const dataDirFrom = (env: NodeJS.ProcessEnv): string => path.resolve(projectRoot, env.DATA_DIR || '.data');

const schema = z.object({
  DATA_DIR: z.string().min(1).default('.data'),
  HOST: z.string().min(1).default('127.0.0.1'),
  CLOUD_PORT: port.default(4566),
  HTTP_PORT: port.default(3000),
  LAMBDA_PORT: port.default(3002),
  STAGE: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and -').default('local'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  EVENT_SOURCE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  EVENT_SOURCE_MAX_BATCH_EVENTS: z.coerce.number().int().min(1).default(1000),
  /** An external cloud (LocalStack) to use instead of the embedded emulators. */
  CLOUD_ENDPOINT: z.url().optional(),
  /** Comma-separated origins a browser may call the API from; empty: no cross-origin access. */
  CORS_ORIGINS: z.string().default(''),
});

export type StackSettings = {
  dataDir: string;
  host: string;
  cloudPort: number;
  httpPort: number;
  lambdaPort: number;
  stage: string;
  region: string;
  eventSourceConcurrency: number;
  /** Events one invocation of the processor is handed at most (one message is handed whatever its size). */
  eventSourceMaxBatchEvents: number;
  /** Use this endpoint (LocalStack) instead of starting the embedded emulators. */
  cloudEndpoint?: string;
  corsOrigins: string[];
  /** Strict mode (CLOUD_STRICT=1, docs/strict-mode.md); absent when off. */
  strict?: StrictSettings;
};

export const readStackSettings = (env: NodeJS.ProcessEnv): StackSettings => {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    throw new Error(
      `this needs Node.js 22 or newer and runs on ${process.version}. Use the npm scripts (npm start, npm test): ` +
        'they run the Node 22 that npm install put in node_modules/.bin.',
    );
  }
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`).join('; '));
  }
  const s = parsed.data;
  const strict = readStrictSettings(env);
  if (strict && s.CLOUD_ENDPOINT) throw new Error('CLOUD_STRICT: strict mode is a mode of the embedded local cloud; it cannot be combined with CLOUD_ENDPOINT');
  return {
    dataDir: dataDirFrom({ DATA_DIR: s.DATA_DIR }),
    host: s.HOST,
    cloudPort: s.CLOUD_PORT,
    httpPort: s.HTTP_PORT,
    lambdaPort: s.LAMBDA_PORT,
    stage: s.STAGE,
    region: s.AWS_REGION,
    eventSourceConcurrency: s.EVENT_SOURCE_CONCURRENCY,
    eventSourceMaxBatchEvents: s.EVENT_SOURCE_MAX_BATCH_EVENTS,
    corsOrigins: s.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean),
    ...(s.CLOUD_ENDPOINT ? { cloudEndpoint: s.CLOUD_ENDPOINT } : {}),
    ...(strict ? { strict } : {}),
  };
};
