// Reads serverless.yml through the framework itself (`serverless print`), so variables resolve exactly
// as they do for `serverless deploy` and there is one definition of every resource.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const projectRoot = path.resolve(__dirname, '..');

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

export interface SqsEventSettings {
  batchSize: number;
  maximumBatchingWindow: number;
  functionResponseType?: string;
  arn: unknown;
}

export interface ServiceConfig {
  service: string;
  stage: string;
  region: string;
  environment: Record<string, string>;
  resources: Record<string, CfnResource>;
  /** provider.memorySize (MB): what each function gets unless it sets its own. */
  memorySize: number;
  functions: Record<string, { handler: string; timeout?: number; memorySize?: number; events?: Array<Record<string, unknown>> }>;
}

/** A function's memory (MB) as deployed: its own memorySize, else the provider's. */
export const memoryOf = (config: ServiceConfig, functionKey: string): number => config.functions[functionKey]?.memorySize ?? config.memorySize;

export const functionName = (config: ServiceConfig, fn: string): string =>
  `${config.service}-${config.stage}-${fn}`;

/**
 * The SQS event of the one function that consumes a queue, as declared in serverless.yml, and the
 * name of that queue (its `arn` is `!GetAtt <Queue>.Arn` of a queue in `resources`).
 */
export const sqsEventSource = (config: ServiceConfig): { functionKey: string; settings: SqsEventSettings; queueName: string } => {
  for (const [functionKey, fn] of Object.entries(config.functions)) {
    const sqs = fn.events?.find((event) => 'sqs' in event)?.sqs as SqsEventSettings | undefined;
    if (!sqs) continue;
    const logicalId = (sqs.arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    const queueName = logicalId ? config.resources[logicalId]?.Properties.QueueName : undefined;
    if (typeof queueName !== 'string') {
      throw new Error(`serverless.yml: the sqs event of ${functionKey} must name its queue as !GetAtt <Queue>.Arn of a queue in resources`);
    }
    return { functionKey, settings: sqs, queueName };
  }
  throw new Error('serverless.yml declares no function with an sqs event');
};

/** Every httpApi event: method, path, and the function that answers it. */
export const httpRoutes = (config: ServiceConfig): Array<{ method: string; path: string; functionKey: string }> =>
  Object.entries(config.functions).flatMap(([functionKey, fn]) =>
    (fn.events ?? []).flatMap((event) => {
      const api = event.httpApi as { method?: string; path?: string } | undefined;
      return api?.method && api.path ? [{ method: api.method.toUpperCase(), path: api.path, functionKey }] : [];
    }),
  );

const serverlessBin = (): string => path.join(projectRoot, 'node_modules', 'serverless', 'bin', 'serverless.js');

/**
 * `serverless print` takes seconds (it loads the framework and plugins), so the result is cached
 * under node_modules/.cache, keyed by the file's content, the stage and the region.
 */
const defaultCacheDir = path.join(projectRoot, 'node_modules', '.cache', 'log-aggregator');

export const loadServiceConfig = async (options: { stage: string; cacheDir?: string }): Promise<ServiceConfig> => {
  // Everything `serverless print` reads: the file and the JS it pulls in with ${file(...)}.
  const hash = createHash('sha256');
  for (const file of ['serverless.yml', ...readdirSync(path.join(projectRoot, 'deploy')).filter((name) => name.endsWith('.js')).sort().map((name) => `deploy/${name}`)]) {
    hash.update(readFileSync(path.join(projectRoot, file), 'utf8'));
  }
  // The cache's format version: bump it when ServiceConfig changes.
  const key = hash.update('v2').update(options.stage).update(process.env.AWS_REGION ?? '').digest('hex').slice(0, 16);
  const cacheFile = path.join(options.cacheDir ?? defaultCacheDir, `serverless-print-${key}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as ServiceConfig;

  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      process.execPath,
      [serverlessBin(), 'print', '--format', 'json', '--stage', options.stage],
      { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' } },
    ));
  } catch (error) {
    // The framework writes configuration errors to stdout.
    const { stdout: out = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`\`serverless print\` failed; is serverless.yml valid? Run \`npx serverless print\` to see why.\n${stderr}${out}`, {
      cause: error,
    });
  }
  const printed = JSON.parse(stdout) as {
    service: string;
    provider: { stage: string; region: string; memorySize?: number; environment?: Record<string, string> };
    resources?: { Resources?: Record<string, CfnResource> };
    functions?: ServiceConfig['functions'];
  };
  const config: ServiceConfig = {
    service: printed.service,
    stage: printed.provider.stage,
    region: printed.provider.region,
    // Key values never go into the cache file.
    environment: Object.fromEntries(
      Object.entries(printed.provider.environment ?? {})
        .filter(([key]) => !key.endsWith('_API_KEYS'))
        .map(([key, value]) => [key, String(value)]),
    ),
    resources: printed.resources?.Resources ?? {},
    // Lambda's own default when serverless.yml names none.
    memorySize: Number(printed.provider.memorySize ?? 1024),
    functions: printed.functions ?? {},
  };
  mkdirSync(path.dirname(cacheFile), { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(config));
  return config;
};
