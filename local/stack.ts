// The whole local stack: embedded cloud, provisioning from serverless.yml, `serverless offline`, and
// the SQS event source. `npm start` runs it in the foreground; the end-to-end tests start it too.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startLocalCloud, type LocalCloud } from './cloud.ts';
import { startEventSource, type EventSource } from './event-source.ts';
import { startGateway } from './gateway.ts';
import { freePort } from './ports.ts';
import { provisionResources } from './provision.ts';
import { assertNoInterruptedMigration, removeStackFile, writeStackFile } from './running-stack.ts';
import { startScheduler } from './scheduler.ts';
import { functionName, httpRoutes, loadServiceConfig, projectRoot, sqsEventSource, type ServiceConfig } from './service-config.ts';
import type { StackSettings } from './settings.ts';
import { describeStrict } from './strict/settings.ts';
import { eventCountOf } from '../lib/queue/message.ts';

export interface StackOptions extends StackSettings {
  log: (line: string) => void;
}

export interface Stack {
  config: ServiceConfig;
  cloud: LocalCloud;
  httpUrl: string;
  eventSource: EventSource;
  stop(): Promise<void>;
}

const assertPortFree = async (host: string, port: number, variable: string): Promise<void> => {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', () =>
      reject(new Error(`port ${port} on ${host} is in use: is another \`npm start\` running? Stop it, or set ${variable}.`)),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
};

const waitForHealth = async (url: string, offline: ChildProcess, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (offline.exitCode !== null) throw new Error(`serverless offline exited with code ${offline.exitCode}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`serverless offline did not become healthy within ${timeoutMs / 1000}s (last answer: ${last})`);
};

/**
 * serverless-esbuild bundles the functions when serverless offline starts and then leaves esbuild's
 * service process (Go, ~220-360 MB) idle for as long as serverless offline runs; nothing rebuilds
 * here (serverless.yml turns its file watcher off), so the stack stops it once the functions answer.
 */
const stopIdleBundler = (parentPid: number): void => {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('--service=')) process.kill(Number(entry), 'SIGTERM');
    } catch {
      // not Linux, or the process is gone: nothing to save
    }
  }
};

/**
 * Where a stack's functions are bundled: under its data folder, which `serverless package` never
 * touches. serverless-esbuild deletes its whole work folder after packaging (`.esbuild` in the
 * checkout, with everything under it), and serverless offline loads a function's file again at every
 * invocation, so bundles kept there made every route answer 502 after a `serverless package` until a
 * restart. One folder per stage and port: two stacks never share one.
 */
export const bundleFolder = (dataDir: string, stage: string, httpPort: number): string => path.join(dataDir, 'bundles', `${stage}-${httpPort}`);

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
};

/**
 * serverless offline 14 hands every body but octet-stream and multipart to a function as UTF-8 text,
 * which destroys protobuf, snappy and gzip bodies (the shipper protocols); patches/serverless-offline
 * makes it pass them base64-encoded as API Gateway's HTTP API does. An install that skipped the
 * patch would corrupt those bodies silently, so the stack refuses to start without it.
 */
const assertOfflinePatched = (): void => {
  const file = path.join(projectRoot, 'node_modules', 'serverless-offline', 'src', 'utils', 'index.js');
  if (!readFileSync(file, 'utf8').includes('textContentType')) {
    throw new Error(
      `${file} is not patched (patches/serverless-offline+14.8.2.patch): run \`rm -rf node_modules/serverless-offline && npm install\` ` +
        '(npm install applies patches/ through patch-package). Unpatched, serverless offline corrupts binary bodies (OTLP protobuf, Loki snappy, gzip).',
    );
  }
};

export const startStack = async (options: StackOptions): Promise<Stack> => {
  const { log } = options;
  assertOfflinePatched();
  if (!options.cloudEndpoint) await assertPortFree(options.host, options.cloudPort, 'CLOUD_PORT');
  await assertPortFree(options.host, options.httpPort, 'HTTP_PORT');
  await assertPortFree(options.host, options.lambdaPort, 'LAMBDA_PORT');
  mkdirSync(options.dataDir, { recursive: true });
  assertNoInterruptedMigration(options.dataDir);

  const config = await loadServiceConfig({ stage: options.stage });
  const cloud: LocalCloud = options.cloudEndpoint
    ? {
        endpoint: options.cloudEndpoint,
        port: Number(new URL(options.cloudEndpoint).port || 80),
        dynamodbEndpoint: options.cloudEndpoint,
        sqsEndpoint: options.cloudEndpoint,
        stop: async () => undefined,
      }
    : await startLocalCloud({
        dataDir: options.dataDir,
        port: options.cloudPort,
        host: options.host,
        region: options.region,
        ...(options.strict ? { strict: options.strict } : {}),
      });
  const cleanup: Array<() => Promise<void>> = [() => cloud.stop()];
  const strict = cloud.strict;
  if (strict) {
    // What strict mode did: a line whenever the counts changed (at most one a minute), and one at the stop.
    let reported = '';
    const report = (): void => {
      const summary = strict.faults.summary();
      if (summary !== reported) log(`strict mode   injected so far: ${(reported = summary)}`);
    };
    const reporter = setInterval(report, 60_000).unref();
    cleanup.push(async () => {
      clearInterval(reporter);
      log(`strict mode   injected: ${strict.faults.summary()} (CLOUD_STRICT_SEED=${strict.settings.seed} repeats them)`);
    });
  }
  const stopAll = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  try {
    log(
      options.cloudEndpoint
        ? `cloud         ${cloud.endpoint}  (external: DynamoDB + SQS there)`
        : `local cloud   ${cloud.endpoint}  (DynamoDB + SQS, data in ${options.dataDir}; cost meter at ${cloud.endpoint}/_meter)`,
    );
    if (strict) log(`strict mode   ${describeStrict(strict.settings)}; faults counted at ${cloud.endpoint}/_strict`);
    const provisioned = await provisionResources({ endpoint: cloud.endpoint, region: options.region, resources: config.resources });
    log(`provisioned   table ${provisioned.tables.join(', ')}; queues ${Object.values(provisioned.queues).map((q) => q.url.split('/').pop()).join(', ')}`);

    const logDir = path.join(options.dataDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const offlineLogPath = path.join(logDir, 'offline.log');
    const offlineLog = createWriteStream(offlineLogPath, { flags: 'a' });
    // Bundled afresh at every start (nothing left from a stack that was killed), removed at the stop.
    const bundles = bundleFolder(options.dataDir, options.stage, options.httpPort);
    rmSync(bundles, { recursive: true, force: true });
    cleanup.push(async () => rmSync(bundles, { recursive: true, force: true }));
    // serverless offline answers on an internal port; the gateway (gateway.ts) on the public one.
    const offlinePort = await freePort();
    const offline = spawn(
      process.execPath,
      [
        // Like a Lambda memory size: without a cap, V8 on a roomy machine lets the heap grow lazily
        // (740 MB instead of 380 MB in the benchmark, at the same throughput).
        '--max-old-space-size=384',
        // A larger young generation: the SDK allocates a lot of short-lived objects per request, and
        // with the default 16 MB scavenges took 12% of this process's CPU (BENCHMARKS.md, profile).
        '--max-semi-space-size=32',
        // OFFLINE_NODE_ARGS: extra node flags for the functions' process, e.g. --cpu-prof to profile.
        ...(process.env.OFFLINE_NODE_ARGS ?? '').split(' ').filter(Boolean),
        '--require',
        path.join(__dirname, 'exit-with-parent.cjs'),
        path.join(projectRoot, 'node_modules', 'serverless', 'bin', 'serverless.js'),
        'offline',
        'start',
        '--stage',
        options.stage,
        // Only the gateway is reachable from outside.
        '--host',
        '127.0.0.1',
        '--httpPort',
        String(offlinePort),
        '--lambdaPort',
        String(options.lambdaPort),
      ],
      {
        cwd: projectRoot,
        // Its own process group: a terminal's Ctrl-C must not stop it before the event source drains.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: cloud.endpoint,
          // The functions talk to DynamoDB directly (one hop less than through the shared endpoint; the
          // engine meters every call either way), except in strict mode, which lives at the shared
          // endpoint. SQS always goes through it: the meter reads its payloads there (few calls: one per
          // published batch).
          AWS_ENDPOINT_URL_DYNAMODB: strict ? cloud.endpoint : cloud.dynamodbEndpoint,
          AWS_ENDPOINT_URL_SQS: options.cloudEndpoint ? cloud.sqsEndpoint : cloud.endpoint,
          // /health says so when the functions run against a strict local cloud.
          ...(strict ? { DEPLOYMENT_NOTICE: `local cloud in ${describeStrict(strict.settings)}; faults at ${cloud.endpoint}/_strict` } : {}),
          AWS_REGION: options.region,
          AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
          AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
          SLS_TELEMETRY_DISABLED: '1',
          // serverless-esbuild joins it to the project folder, so it has to be relative to it.
          ESBUILD_WORK_FOLDER: path.relative(projectRoot, bundles),
          // Readable stack traces locally (NODE_OPTIONS in serverless.yml enables them).
          ESBUILD_SOURCEMAP: process.env.ESBUILD_SOURCEMAP ?? 'true',
          ESBUILD_MINIFY: process.env.ESBUILD_MINIFY ?? 'false',

        },
      },
    );
    cleanup.push(() => stopChild(offline));
    // The framework's and the handlers' output goes to a file; warnings and errors also to the console.
    for (const stream of [offline.stdout, offline.stderr]) {
      stream!.pipe(offlineLog, { end: false });
      stream!.setEncoding('utf8');
      stream!.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (/"level":"(WARN|ERROR|CRITICAL)"|^\s*(✖|Error:)/.test(line)) log(`offline       ${line.trim()}`);
        }
      });
    }
    const reachableHost = options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
    await waitForHealth(`http://127.0.0.1:${offlinePort}`, offline, 120_000);
    const gateway = await startGateway({
      host: options.host,
      port: options.httpPort,
      upstream: `http://127.0.0.1:${offlinePort}`,
      routes: httpRoutes(config),
      corsOrigins: options.corsOrigins,
      log,
    });
    cleanup.push(() => gateway.stop());
    const httpUrl = gateway.url;
    stopIdleBundler(offline.pid!);
    log(`functions     ${httpUrl}  (${httpRoutes(config).map((route) => `${route.method} ${route.path}`).join(', ')}; Lambda invoke on :${options.lambdaPort}; log ${offlineLogPath})`);

    const { functionKey, settings, queueName } = sqsEventSource(config);
    const processTimeoutMs = Number(config.functions[functionKey]?.timeout ?? 6) * 1000;
    const invocationLog = createWriteStream(path.join(logDir, 'invocations.log'), { flags: 'a' });
    // A full disk must not take the stack down with it: the log is for the benchmark.
    invocationLog.on('error', (error) => log(`event source  cannot write ${path.join(logDir, 'invocations.log')}: ${error.message}`));
    const visibilityTimeout = Number(Object.values(config.resources).find((resource) => resource.Properties.QueueName === queueName)?.Properties.VisibilityTimeout);
    cleanup.push(() => new Promise<void>((resolve) => invocationLog.end(resolve)));
    const eventSource = await startEventSource({
      sqsEndpoint: cloud.endpoint,
      lambdaEndpoint: `http://${reachableHost}:${options.lambdaPort}`,
      region: options.region,
      queueName,
      functionName: functionName(config, functionKey),
      batchSize: settings.batchSize,
      batchingWindowSeconds: settings.maximumBatchingWindow ?? 0,
      concurrency: options.eventSourceConcurrency,
      // Bounded by events as well as messages: ten messages of 500 events kept an invocation busy for 7-12 s
      // on this 2-core machine (p99 12.5 s of a 30 s timeout with a CPU hog); on Lambda, DynamoDB
      // takes such a batch in a second or two.
      maxBatchWeight: options.eventSourceMaxBatchEvents,
      weigh: eventCountOf,
      // Messages held back for the next batch come back to the queue well before they could reappear on their own.
      ...(visibilityTimeout > 0 ? { maxHoldMs: (visibilityTimeout * 1000) / 3 } : {}),
      onBatch: (summary) => {
        if (summary.error) log(`event source  ${summary.records} record(s) failed: ${summary.error}`);
        // One line per invocation: `npm run bench` reads durations and timeouts from it.
        if (summary.invocationMs !== undefined) {
          invocationLog.write(
            `${JSON.stringify({ at: new Date().toISOString(), ms: Math.round(summary.invocationMs), timeout_ms: processTimeoutMs, records: summary.records, failed: summary.failed, ...(summary.error ? { error: summary.error.slice(0, 300) } : {}) })}\n`,
          );
        }
      },
    });
    cleanup.push(() => eventSource.stop());
    const scheduler = startScheduler({ config, lambdaEndpoint: `http://${reachableHost}:${options.lambdaPort}`, region: options.region, log });
    cleanup.push(async () => scheduler.stop());
    log(
      `event source  ${queueName} -> ${functionName(config, functionKey)} (batch ${settings.batchSize} messages / ${options.eventSourceMaxBatchEvents} events, window ${settings.maximumBatchingWindow ?? 0}s, concurrency ${options.eventSourceConcurrency})`,
    );
    // Where the scripts and clients on this machine find this stack (running-stack.ts), now that it answers.
    writeStackFile(options.dataDir, {
      pid: process.pid,
      stage: options.stage,
      started_at: new Date().toISOString(),
      cloud: cloud.endpoint,
      dynamodb: cloud.dynamodbEndpoint,
      sqs: cloud.sqsEndpoint,
      http: httpUrl,
    });
    cleanup.push(async () => removeStackFile(options.dataDir, process.pid));
    return { config, cloud, httpUrl, eventSource, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
};
