// Fault injection for tests: makes the processor fail at a chosen point between two of its calls, so
// tests can prove that a retry ends with exact counts. It cannot be switched on in a deployment: real
// Lambda always sets AWS_EXECUTION_ENV (a reserved variable), and faults are refused whenever it is
// set, and also unless the code runs under serverless offline (IS_OFFLINE) or jest.
//
// A plan is a comma-separated list of `<checkpoint>` or `<checkpoint>@<n>`: fail the n-th time (1st by
// default) the checkpoint is reached in this process since the plan was armed. `after-record@1,
// after-record@2` fails the first two attempts there. From PROCESSOR_FAULTS, or armFaults().

import { ConfigError } from './errors.ts';

/** Points between two calls of the processor (processor.ts) and the fold (fold.ts) where a test can make it fail. */
export const CHECKPOINTS = [
  'after-put',
  'after-puts',
  'after-outcomes',
  'after-tail',
  'after-record',
  'fold-after-read',
  'fold-after-confirm',
  'fold-after-apply',
  'fold-after-mark',
] as const;

export type Checkpoint = (typeof CHECKPOINTS)[number];

export class InjectedFault extends Error {
  constructor(readonly point: Checkpoint) {
    super(`injected fault at ${point}`);
    this.name = 'InjectedFault';
  }
}

interface Entry {
  point: Checkpoint;
  failOn: number;
}

export const faultsAllowed = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.AWS_EXECUTION_ENV === undefined && (env.IS_OFFLINE === 'true' || env.JEST_WORKER_ID !== undefined);

const parsePlan = (spec: string): Entry[] =>
  spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [point, nth = '1'] = part.split('@');
      if (!(CHECKPOINTS as readonly string[]).includes(point ?? '') || !/^[1-9]\d*$/.test(nth)) {
        throw new ConfigError(`bad fault "${part}": use <checkpoint>[@n] with a checkpoint of ${CHECKPOINTS.join(', ')}`);
      }
      return { point: point as Checkpoint, failOn: Number(nth) };
    });

let plan: Entry[] = faultsAllowed() && process.env.PROCESSOR_FAULTS ? parsePlan(process.env.PROCESSOR_FAULTS) : [];
const visits = new Map<Checkpoint, number>();

export const armFaults = (spec: string): void => {
  if (!faultsAllowed()) throw new ConfigError('fault injection is available only under serverless offline or jest');
  plan = parsePlan(spec);
  visits.clear();
};

export const disarmFaults = (): void => {
  plan = [];
  visits.clear();
};

/** The processor's checkpoint hook while a plan is armed; undefined (no overhead) otherwise. */
export const faultCheckpoint = (): ((point: Checkpoint) => void) | undefined => {
  if (plan.length === 0) return undefined;
  return (point) => {
    const visit = (visits.get(point) ?? 0) + 1;
    visits.set(point, visit);
    if (plan.some((entry) => entry.point === point && entry.failOn === visit)) throw new InjectedFault(point);
  };
};
