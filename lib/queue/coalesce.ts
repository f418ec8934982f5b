// Publish requests that arrive while a send is in flight share the next send's messages.
//
// A service that logs one event per request would otherwise make one SQS message per event, and
// every message costs the processor a message record, a share of a key read and a share of a fold:
// about 4.7 DynamoDB requests per event instead of under one when events share a message. Coalescing is
// Nagle's rule: a request that finds nothing in flight is sent at once, alone; requests that come in
// while a send is in flight wait for it and then go together. So nothing waits on a timer, and an
// idle publisher sends exactly as it would without this.
//
// On AWS Lambda a container serves one request at a time, so there is never anything in flight to
// join: each request sends its own messages, as before, and is correct. Where one process serves
// concurrent requests (serverless offline runs the functions in process), they share messages. A
// request's answer still waits for the messages that carry its events: 202 means in the queue.
//
// Sends go one after the other, so a request that joins waits for the send in flight and then for its
// own: with a slow queue, up to twice one send's time. Requests big enough to fill a message of their
// own gain nothing from joining and do not (lib/api/ingest.ts), so they never hold small ones up.
import type { AcceptedEvent } from '../core/publish-request.ts';
import { packMessages, type PackedMessage } from './message.ts';

export interface SendResult {
  /** Messages the queue accepted. */
  sent: PackedMessage[];
  /** Why the others were not accepted (empty when all were). */
  failures: unknown[];
}

/** What became of one request's events. */
export interface RequestOutcome {
  /** Events of this request in messages the queue accepted. */
  accepted: number;
  /** Batch ids of the messages that carry this request's events (its receipt: receipt.ts). */
  batches: string[];
  /** Set when some of this request's events are in a message the queue did not accept. */
  failure?: unknown;
}

interface Waiting {
  events: AcceptedEvent[];
  resolve: (outcome: RequestOutcome) => void;
}

export class SendCoalescer {
  private waiting: Waiting[] = [];
  private sending = false;

  /** `send` must not throw: it reports refused messages in `failures`. */
  constructor(private readonly send: (messages: PackedMessage[]) => Promise<SendResult>) {}

  submit(events: AcceptedEvent[]): Promise<RequestOutcome> {
    if (events.length === 0) return Promise.resolve({ accepted: 0, batches: [] });
    return new Promise((resolve) => {
      this.waiting.push({ events, resolve });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting;
        this.waiting = [];
        await this.sendGroup(group);
      }
    } finally {
      this.sending = false;
    }
  }

  private async sendGroup(group: Waiting[]): Promise<void> {
    let messages: PackedMessage[];
    let result: SendResult;
    try {
      messages = packMessages(group.flatMap((request) => request.events));
      result = await this.send(messages);
    } catch (error) {
      // Packing or sending failed as a whole: nothing of this group is known to be in the queue.
      for (const request of group) request.resolve({ accepted: 0, batches: [], failure: error });
      return;
    }
    const sent = new Set(result.sent);
    // Events keep their order through packing, so each request is a contiguous range of the group's
    // events, and each message another; a request's outcome is that of the messages its range meets.
    let requestStart = 0;
    let messageIndex = 0;
    let messageStart = 0;
    for (const request of group) {
      const requestEnd = requestStart + request.events.length;
      const outcome: RequestOutcome = { accepted: 0, batches: [] };
      while (messageIndex < messages.length && messageStart < requestEnd) {
        const message = messages[messageIndex]!;
        const messageEnd = messageStart + message.eventCount;
        const overlap = Math.min(messageEnd, requestEnd) - Math.max(messageStart, requestStart);
        outcome.batches.push(message.batch);
        if (sent.has(message)) outcome.accepted += overlap;
        else outcome.failure ??= result.failures[0] ?? new Error('the queue did not accept a message');
        // The next request may start inside this message: move on only past messages it ends in.
        if (messageEnd > requestEnd) break;
        messageIndex += 1;
        messageStart = messageEnd;
      }
      request.resolve(outcome);
      requestStart = requestEnd;
    }
  }
}
