// Strict mode (CLOUD_STRICT=1, docs/strict-mode.md): the local cloud behaves like AWS where dynalite
// and fauxqs do not. Two places do the work:
//
// - at the shared endpoint (this layer, and dynamodb.ts / sqs.ts), on the parsed JSON of each call:
//   throttling, expression and key limits, unprocessed batch entries, TTL's API, refused batch sends,
//   redelivery after delete, short receives. A rule either answers as AWS would, in its wire format,
//   or forwards a (possibly smaller) request and completes the answer;
// - in the engine (dynalite-engine.ts): indexes that trail the table (index-lag.ts), pages cut at
//   1 MB by AWS's item sizes, and the TTL sweeper (ttl.ts), because those concern what is stored.
//
// Every decision draws from a seeded stream (random.ts) and every fault is counted (faults.ts);
// GET /_strict on the endpoint reports both. The stack routes the functions, the event source and the
// aws CLI through the shared endpoint in strict mode, so everything meets the same AWS.
import type { FauxqsServer } from 'fauxqs';
import type { Engine } from '../dynalite-engine.ts';
import type { Answer } from './answers.ts';
import { DynamoDbRules, type Forward } from './dynamodb.ts';
import { FaultCounter } from './faults.ts';
import { FaultRandom } from './random.ts';
import { describeStrict, type StrictSettings } from './settings.ts';
import { SqsRules } from './sqs.ts';
import { TtlSweeper } from './ttl.ts';

export interface StrictStatus {
  enabled: true;
  seed: number;
  description: string;
  settings: StrictSettings;
  faults: ReturnType<FaultCounter['snapshot']>;
  /** Index changes written but not yet visible in the indexes. */
  index_changes_pending: number;
  /** Copies of deleted messages yet to come back. */
  redeliveries_pending: number;
}

export class StrictLayer {
  readonly random: FaultRandom;
  private readonly dynamodb: DynamoDbRules;
  private readonly sqs: SqsRules;
  readonly ttl: TtlSweeper;

  constructor(
    readonly settings: StrictSettings,
    readonly faults: FaultCounter,
    private readonly engine: Engine,
    fauxqs: Pick<FauxqsServer, 'sendMessage'>,
  ) {
    this.random = new FaultRandom(settings.seed);
    this.ttl = new TtlSweeper(engine, { sweepMs: settings.ttlSweepMs, delayMs: settings.ttlDelayMs, faults });
    this.dynamodb = new DynamoDbRules(settings, this.random, faults, engine, this.ttl);
    this.sqs = new SqsRules(settings, this.random, faults, fauxqs);
  }

  start(): void {
    this.ttl.start();
  }

  async stop(): Promise<void> {
    this.sqs.stop();
    await this.ttl.stop();
  }

  handle(service: 'dynamodb' | 'sqs', operation: string, input: Record<string, unknown>, forward: Forward): Promise<Answer> {
    return service === 'dynamodb' ? this.dynamodb.handle(operation, input, forward) : this.sqs.handle(operation, input, forward);
  }

  status(): StrictStatus {
    return {
      enabled: true,
      seed: this.settings.seed,
      description: describeStrict(this.settings),
      settings: this.settings,
      faults: this.faults.snapshot(),
      index_changes_pending: this.engine.indexLag.pending(),
      redeliveries_pending: this.sqs.pendingRedeliveries(),
    };
  }
}
