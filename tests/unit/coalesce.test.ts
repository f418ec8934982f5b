// The coalescer's bookkeeping: which request's events went in which message, and what each request
// is told. The send function here is a stand-in: SQS cannot be made to refuse one chosen message of a
// batch for real, and that is the case whose answer to each request matters. The real path (the
// publish handler against the embedded SQS) is tested in tests/handlers/pipeline.test.ts.
import { SendCoalescer, type SendResult } from '../../lib/queue/coalesce.ts';
import { parseMessage, type PackedMessage } from '../../lib/queue/message.ts';
import { validatePublishRequest } from '../../lib/core/publish-request.ts';

const accepted = (topic: string, id: string, payloadBytes = 10) =>
  validatePublishRequest({ topic, event_id: id, timestamp: '2026-11-25T00:00:00Z', source: 'test', payload: { text: 'x'.repeat(payloadBytes) } });

/** A send that the test completes by hand, so it decides what is in flight when. */
const controlledSend = () => {
  const calls: Array<{ messages: PackedMessage[]; finish: (result?: Partial<SendResult>) => void }> = [];
  const send = (messages: PackedMessage[]) =>
    new Promise<SendResult>((resolve) => {
      calls.push({ messages, finish: (result) => resolve({ sent: result?.sent ?? messages, failures: result?.failures ?? [] }) });
    });
  return { calls, send };
};

const idsIn = (message: PackedMessage): string[] => parseMessage(message.body).events.map((event) => event.event_id);
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SendCoalescer', () => {
  it('sends a request at once when nothing is in flight, alone', async () => {
    const { calls, send } = controlledSend();
    const coalescer = new SendCoalescer(send);
    const first = coalescer.submit(accepted('t', 'a'));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.messages.map(idsIn)).toEqual([['a']]);
    calls[0]!.finish();
    expect(await first).toEqual({ accepted: 1, batches: [calls[0]!.messages[0]!.batch] });
  });

  it('puts the requests that arrive during a send into the next one, together', async () => {
    const { calls, send } = controlledSend();
    const coalescer = new SendCoalescer(send);
    const first = coalescer.submit(accepted('t', 'a'));
    const later = [coalescer.submit(accepted('t', 'b')), coalescer.submit(accepted('u', 'c')), coalescer.submit(accepted('t', 'd'))];
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await first;
    await tick();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.messages.map(idsIn)).toEqual([['b', 'c', 'd']]);
    calls[1]!.finish();
    // Each is told the message they share: its receipt.
    const shared = calls[1]!.messages[0]!.batch;
    expect(await Promise.all(later)).toEqual([
      { accepted: 1, batches: [shared] },
      { accepted: 1, batches: [shared] },
      { accepted: 1, batches: [shared] },
    ]);
  });

  it('fails exactly the requests with events in a refused message, and counts what the others got in', async () => {
    const { calls, send } = controlledSend();
    const coalescer = new SendCoalescer(send);
    const blocker = coalescer.submit(accepted('t', 'first'));
    // Payloads of ~100 KB: two fit in one 256 KB message, so the three requests span two messages and
    // the middle one has an event in each.
    const big = 100_000;
    const requests = [
      coalescer.submit(accepted('t', 'a', big)),
      coalescer.submit([...accepted('t', 'b', big), ...accepted('t', 'c', big)]),
      coalescer.submit(accepted('t', 'd', 10)),
    ];
    calls[0]!.finish();
    await blocker;
    await tick();
    const messages = calls[1]!.messages;
    expect(messages.map(idsIn)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    const refusal = new Error('refused');
    calls[1]!.finish({ sent: [messages[0]!], failures: [refusal] });
    const [ab, cd] = messages.map((message) => message.batch);
    expect(await Promise.all(requests)).toEqual([
      { accepted: 1, batches: [ab] },
      { accepted: 1, batches: [ab, cd], failure: refusal },
      { accepted: 0, batches: [cd], failure: refusal },
    ]);
  });

  it('answers every waiting request when the send throws, and keeps serving later ones', async () => {
    let fail = true;
    const coalescer = new SendCoalescer(async (messages) => {
      if (fail) throw new Error('queue unreachable');
      return { sent: messages, failures: [] };
    });
    const outcomes = await Promise.all([coalescer.submit(accepted('t', 'a')), coalescer.submit(accepted('t', 'b'))]);
    expect(outcomes.map((outcome) => [outcome.accepted, (outcome.failure as Error).message])).toEqual([
      [0, 'queue unreachable'],
      [0, 'queue unreachable'],
    ]);
    fail = false;
    expect(await coalescer.submit(accepted('t', 'c'))).toEqual({ accepted: 1, batches: [expect.any(String)] });
  });
});
