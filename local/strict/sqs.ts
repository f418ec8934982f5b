// Strict mode at the endpoint, for SQS (the JSON protocol the SDK and the aws CLI 1.x speak): what a
// standard queue on AWS does and fauxqs does not.
//
// - throttling: a data-plane call is answered RequestThrottled or ThrottlingException (answers.ts);
// - SendMessageBatch: some entries are refused: not forwarded, and answered in `Failed` with
//   SenderFault false and InternalError, as AWS answers an entry it could not take (the call itself
//   succeeds);
// - a deleted message delivered again: standard queues are at-least-once, and AWS says a message may
//   come back even after it was deleted. The body of every message received is remembered by its
//   receipt handle; after a successful delete, a copy of some is put back into the queue a moment
//   later (a new message id; the same body, so the same batch id for the processor);
// - receives that return fewer messages than asked for and waiting: the request's
//   MaxNumberOfMessages is lowered before it is forwarded (never to 0: fauxqs only makes a message
//   whose visibility timeout ran out visible again when it is asked for messages, so an answer made up
//   here without asking it would leave such a message hidden from the queue's own counts).
import type { FauxqsServer } from 'fauxqs';
import { sqsAnswer, sqsThrottled, type Answer } from './answers.ts';
import type { FaultCounter } from './faults.ts';
import type { FaultRandom } from './random.ts';
import type { StrictSettings } from './settings.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Forward = (input?: Json) => Promise<Answer>;

const DATA_PLANE = new Set([
  'SendMessage',
  'SendMessageBatch',
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'GetQueueAttributes',
  'GetQueueUrl',
  'PurgeQueue',
]);

/** Received messages remembered for redelivery at most (the oldest are forgotten first). */
const MAX_REMEMBERED = 100_000;

export class SqsRules {
  private readonly received = new Map<string, { queueUrl: string; body: string }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly settings: StrictSettings,
    private readonly random: FaultRandom,
    private readonly faults: FaultCounter,
    private readonly sqs: Pick<FauxqsServer, 'sendMessage'>,
  ) {}

  /** Copies of deleted messages that are yet to come back. */
  pendingRedeliveries(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  async handle(operation: string, input: Json, forward: Forward): Promise<Answer> {
    if (DATA_PLANE.has(operation) && this.random.chance('sqs-throttle', this.settings.sqsThrottle)) {
      this.faults.add('sqs_throttled');
      return sqsThrottled(this.random.chance('sqs-throttle-kind', 0.5) ? 'RequestThrottled' : 'ThrottlingException');
    }
    switch (operation) {
      case 'SendMessageBatch':
        return this.sendBatch(input, forward);
      case 'ReceiveMessage':
        return this.receive(input, forward);
      case 'DeleteMessage':
        return this.deleted(input, forward, [input.ReceiptHandle as string]);
      case 'DeleteMessageBatch':
        return this.deleteBatch(input, forward);
      default:
        return forward();
    }
  }

  private async sendBatch(input: Json, forward: Forward): Promise<Answer> {
    const entries = (input.Entries ?? []) as Json[];
    const refused = entries.filter(() => this.random.chance('send-failures', this.settings.sendFailures));
    if (refused.length === 0) return forward();
    this.faults.add('send_entries_failed', refused.length);
    const failed = refused.map((entry) => ({ Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'We encountered an internal error. Please try again.' }));
    if (refused.length === entries.length) return sqsAnswer(200, { Successful: [], Failed: failed });
    const answer = await forward({ ...input, Entries: entries.filter((entry) => !refused.includes(entry)) });
    if (answer.status !== 200) return answer;
    const output = JSON.parse(answer.body.toString('utf8')) as Json;
    return sqsAnswer(200, { ...output, Failed: [...(output.Failed ?? []), ...failed] });
  }

  private async receive(input: Json, forward: Forward): Promise<Answer> {
    const asked = Number(input.MaxNumberOfMessages ?? 1);
    let request = input;
    if (asked > 1 && this.random.chance('short-receives', this.settings.shortReceives)) {
      const fewer = this.random.between('short-receives-count', 1, asked - 1);
      this.faults.add('short_receives');
      request = { ...input, MaxNumberOfMessages: fewer };
    }
    const answer = await forward(request === input ? undefined : request);
    if (answer.status === 200 && this.settings.redelivery > 0) {
      const output = JSON.parse(answer.body.toString('utf8')) as Json;
      for (const message of (output.Messages ?? []) as Json[]) {
        if (this.received.size >= MAX_REMEMBERED) this.received.delete(this.received.keys().next().value!);
        this.received.set(message.ReceiptHandle, { queueUrl: input.QueueUrl, body: message.Body });
      }
    }
    return answer;
  }

  private async deleteBatch(input: Json, forward: Forward): Promise<Answer> {
    const answer = await forward();
    if (answer.status !== 200) return answer;
    const output = JSON.parse(answer.body.toString('utf8')) as Json;
    const handles = new Map(((input.Entries ?? []) as Json[]).map((entry) => [entry.Id, entry.ReceiptHandle as string]));
    this.redeliverSome(((output.Successful ?? []) as Json[]).map((entry) => handles.get(entry.Id)!).filter(Boolean));
    return answer;
  }

  private async deleted(input: Json, forward: Forward, handles: string[]): Promise<Answer> {
    const answer = await forward();
    if (answer.status === 200) this.redeliverSome(handles);
    return answer;
  }

  private redeliverSome(handles: string[]): void {
    for (const handle of handles) {
      const message = this.received.get(handle);
      this.received.delete(handle);
      if (!message || !this.random.chance('redelivery', this.settings.redelivery)) continue;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        try {
          this.sqs.sendMessage(decodeURIComponent(message.queueUrl.split('/').pop()!), message.body);
          this.faults.add('messages_redelivered');
        } catch {
          // the queue is gone: nothing to deliver to
        }
      }, this.settings.redeliveryDelayMs);
      this.timers.add(timer);
    }
  }
}
