// The queue: depth and dead letters now and over time (sampled by the console while it is open; the
// API keeps no history of the queue), and redriving the DLQ with an admin key.
import { useMemo, useState } from 'preact/hooks';
import { ApiError, redrive, type RedriveResult } from '../api.ts';
import { Chart, type ChartSeries } from '../components/chart.tsx';
import { Failure, Loading } from '../components/notice.tsx';
import { count, localTime } from '../format.ts';
import { refreshStats, useLive } from '../live.ts';
import { StatCard } from './overview.tsx';

const KEY = 'log-aggregator.admin-key';

const DEPTH: ChartSeries[] = [
  { label: 'queued', color: '#2563eb' },
  { label: 'in flight', color: '#7c3aed' },
  { label: 'delayed', color: '#64748b' },
  { label: 'dead letters', color: '#dc2626' },
];

type Outcome = { kind: 'done'; result: RedriveResult; at: string } | { kind: 'refused'; message: string } | { kind: 'failed'; error: unknown };

const Redrive = ({ dlq }: { dlq: number | undefined }) => {
  const [key, setKey] = useState(() => sessionStorage.getItem(KEY) ?? '');
  const [asking, setAsking] = useState(false);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>();

  const run = async (withKey: string): Promise<void> => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const result = await redrive(withKey);
      sessionStorage.setItem(KEY, withKey);
      setKey(withKey);
      setAsking(false);
      setOutcome({ kind: 'done', result, at: new Date().toISOString() });
      void refreshStats();
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        // A key that does not work is not kept.
        sessionStorage.removeItem(KEY);
        setKey('');
        setAsking(true);
        setOutcome({
          kind: 'refused',
          message:
            error.status === 401
              ? 'The API wants an admin key for this.'
              : 'This key is not an admin key (or the stack has no ADMIN_API_KEYS set). Nothing was moved.',
        });
      } else setOutcome({ kind: 'failed', error });
    }
    setBusy(false);
  };

  return (
    <section class="panel" aria-labelledby="redrive-title">
      <div class="panel-head">
        <h2 id="redrive-title">Redrive dead letters</h2>
      </div>
      <p>
        Moves the messages of the dead-letter queue back to the queue, to be processed again (up to 10,000 per run). Events already stored
        count as duplicates, never twice. Fix what made them fail first.
      </p>
      <div class="toolbar">
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={() => {
            if (key) void run(key);
            else {
              setAsking(true);
              setOutcome(undefined);
            }
          }}
        >
          {busy ? 'Redriving…' : `Redrive${dlq ? ` ${count(dlq)} message${dlq === 1 ? '' : 's'}` : ''}`}
        </button>
        {key && (
          <button
            type="button"
            class="small"
            onClick={() => {
              sessionStorage.removeItem(KEY);
              setKey('');
            }}
          >
            Forget the admin key
          </button>
        )}
      </div>
      {asking && (
        <form
          class="key-form"
          aria-label="Admin key"
          onSubmit={(event) => {
            event.preventDefault();
            if (draft.trim()) void run(draft.trim());
          }}
        >
          <label class="field grow">
            <span>Admin API key (one of ADMIN_API_KEYS; kept in this browser tab's session only, sent as x-api-key)</span>
            <input name="admin-key" type="password" autocomplete="off" value={draft} required onInput={(e) => setDraft(e.currentTarget.value)} />
          </label>
          <div class="form-actions">
            <button type="button" onClick={() => setAsking(false)}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy}>
              Redrive with this key
            </button>
          </div>
        </form>
      )}
      <div class="redrive-result" aria-live="polite">
        {outcome?.kind === 'done' && (
          <p class="notice ok" data-moved={outcome.result.moved}>
            Moved <strong>{count(outcome.result.moved)}</strong> message{outcome.result.moved === 1 ? '' : 's'} back to the queue
            {outcome.result.beyond_horizon
              ? `; ${count(outcome.result.beyond_horizon)} of them were older than the dedup horizon (their events may count again)`
              : ''}{' '}
            ({localTime(outcome.at)}).
          </p>
        )}
        {outcome?.kind === 'refused' && (
          <p class="notice error" role="alert">
            Refused: {outcome.message}
          </p>
        )}
        {outcome?.kind === 'failed' && <Failure error={outcome.error} />}
      </div>
    </section>
  );
};

export const Queue = () => {
  const { stats, error, queue } = useLive();
  const data = useMemo(
    () => [queue.map((s) => s.t), queue.map((s) => s.visible), queue.map((s) => s.in_flight), queue.map((s) => s.delayed), queue.map((s) => s.dlq)],
    [queue],
  );
  return (
    <>
      <h1>Queue</h1>
      {!stats ? (
        error ? <Failure error={error} /> : <Loading what="the queue" />
      ) : (
        <div class="cards" aria-label="Queue depth">
          <StatCard name="queue.visible" label="Queued" value={stats.queue.visible} shown={count(stats.queue.visible)} detail="messages waiting" />
          <StatCard name="queue.in_flight" label="In flight" value={stats.queue.in_flight} shown={count(stats.queue.in_flight)} detail="being processed" />
          <StatCard name="queue.delayed" label="Delayed" value={stats.queue.delayed} shown={count(stats.queue.delayed)} detail="not yet visible" />
          <StatCard name="queue.dlq" label="Dead letters" value={stats.queue.dlq} shown={count(stats.queue.dlq)} detail="failed 5 times" tone={stats.queue.dlq ? 'warn' : undefined} />
        </div>
      )}
      <p class="muted">Messages, not events: one message carries one or many events.</p>
      <section class="panel" aria-labelledby="depth-title">
        <div class="panel-head">
          <h2 id="depth-title">Depth over time</h2>
        </div>
        {queue.length < 2 ? (
          <Loading what="samples (one every 2 s)" />
        ) : (
          <figure>
            <Chart label="Queue depth and dead letters over time" series={DEPTH} data={data} height={200} yLabel="messages" minSpan={300} />
            <figcaption class="muted">
              Sampled every 2 s by this browser tab since {localTime(new Date(queue[0]!.t * 1000).toISOString())}; for long-term history scrape
              /metrics (a Grafana dashboard is in deploy/grafana).
            </figcaption>
          </figure>
        )}
      </section>
      <Redrive dlq={stats?.queue.dlq} />
    </>
  );
};
