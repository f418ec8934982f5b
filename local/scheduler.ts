// serverless offline ignores `schedule` events; this invokes such functions through the Lambda
// endpoint at their rate, as EventBridge would on AWS (only `rate(...)` expressions).
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { functionName, type ServiceConfig } from './service-config.ts';

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

export const parseRate = (expression: string): number => {
  const match = /^rate\((\d+)\s+(minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!match) throw new Error(`unsupported schedule "${expression}": only rate(<n> minute|hour|day[s]) runs locally`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
};

export const startScheduler = (options: {
  config: ServiceConfig;
  lambdaEndpoint: string;
  region: string;
  log: (line: string) => void;
}): { stop(): void; scheduled: string[] } => {
  const lambda = new LambdaClient({
    endpoint: options.lambdaEndpoint,
    region: options.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const timers: NodeJS.Timeout[] = [];
  const scheduled: string[] = [];
  for (const [key, fn] of Object.entries(options.config.functions)) {
    for (const event of fn.events ?? []) {
      if (!('schedule' in event)) continue;
      const schedule = event.schedule as string | { rate: string | string[] };
      const rate = typeof schedule === 'string' ? schedule : [schedule.rate].flat()[0]!;
      const name = functionName(options.config, key);
      const invoke = (): void => {
        lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') })).then(
          (response) => {
            if (response.FunctionError) options.log(`scheduler     ${name} failed: ${Buffer.from(response.Payload ?? []).toString()}`);
          },
          (error: Error) => options.log(`scheduler     ${name} could not be invoked: ${error.message}`),
        );
      };
      timers.push(setInterval(invoke, parseRate(rate)).unref());
      scheduled.push(`${key} ${rate}`);
    }
  }
  return {
    scheduled,
    stop: () => {
      timers.forEach(clearInterval);
      lambda.destroy();
    },
  };
};
