// What the pipeline is doing: totals, the queue, throughput over time from the server's per-minute
// history (/stats/series, so a reload or a restart keeps it), and the busiest topics.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getJson, query, type Series, type Stats } from '../api.ts';
import { Chart, type ChartSeries } from '../components/chart.tsx';
import { Failure, Loading, PublishHint } from '../components/notice.tsx';
import { count, duration, localTime, percent } from '../format.ts';
import { useLive } from '../live.ts';
import { href } from '../route.ts';

const RANGES = [
  { id: '15m', label: '15 minutes', minutes: 15, step: 60 },
  { id: '1h', label: 'hour', minutes: 60, step: 60 },
  { id: '24h', label: 'day', minutes: 1440, step: 600 },
] as const;
type RangeId = (typeof RANGES)[number]['id'];

export const THROUGHPUT: ChartSeries[] = [
  { label: 'received', color: '#2563eb', stepped: true },
  { label: 'unique', color: '#16a34a', stepped: true },
  { label: 'duplicate', color: '#ea580c', stepped: true },
];

export const StatCard = ({ name, label, value, shown, detail, tone }: { name: string; label: string; value: number; shown: string; detail?: string; tone?: 'warn' }) => (
  <div class={`card${tone ? ` ${tone}` : ''}`} data-stat={name} data-value={String(value)}>
    <div class="card-label">{label}</div>
    <div class="card-value">{shown}</div>
    {detail && <div class="card-detail">{detail}</div>}
  </div>
);

export const StatCards = ({ stats }: { stats: Stats }) => (
  <div class="cards" aria-label="Totals">
    <StatCard name="received" label="Received" value={stats.received} shown={count(stats.received)} detail="events taken from the queue" />
    <StatCard name="unique_processed" label="Unique" value={stats.unique_processed} shown={count(stats.unique_processed)} detail="stored once each" />
    <StatCard name="duplicate_dropped" label="Duplicates" value={stats.duplicate_dropped} shown={count(stats.duplicate_dropped)} detail="dropped" />
    <StatCard name="dedup_rate" label="Dedup rate" value={stats.dedup_rate} shown={percent(stats.dedup_rate)} detail="duplicates / processed" />
    <StatCard name="queue.visible" label="Queued" value={stats.queue.visible} shown={count(stats.queue.visible)} detail={`messages${stats.queue.delayed ? `, ${count(stats.queue.delayed)} delayed` : ''}`} />
    <StatCard name="queue.in_flight" label="In flight" value={stats.queue.in_flight} shown={count(stats.queue.in_flight)} detail="messages being processed" />
    <StatCard name="queue.dlq" label="Dead letters" value={stats.queue.dlq} shown={count(stats.queue.dlq)} detail={stats.queue.dlq ? 'see Queue to redrive' : 'messages in the DLQ'} tone={stats.queue.dlq ? 'warn' : undefined} />
  </div>
);

/** from/to of a window that ends with the current interval, aligned to the step. */
const timeWindow = (minutes: number, step: number, now = Date.now()): { from: string; to: string } => {
  const stepMs = step * 1000;
  const to = Math.ceil((now + 1) / stepMs) * stepMs;
  return { from: new Date(to - minutes * 60_000).toISOString(), to: new Date(to).toISOString() };
};

const Throughput = ({ stats }: { stats: Stats | undefined }) => {
  const [rangeId, setRangeId] = useState<RangeId>(() => (sessionStorage.getItem('log-aggregator.range') as RangeId) || '15m');
  const range = RANGES.find((candidate) => candidate.id === rangeId) ?? RANGES[0];
  const [series, setSeries] = useState<Series>();
  const [error, setError] = useState<unknown>();
  const last = useRef<{ key: string; window: string; at: number }>({ key: '', window: '', at: 0 });

  // Fetched when something was processed, when a new interval starts, or when the range changes:
  // as live as the stats, without reading the history when nothing moved. A day (1,440 minutes read
  // per request) is refetched for new events at most every 10 s.
  useEffect(() => {
    const { from, to } = timeWindow(range.minutes, range.step);
    const windowKey = `${range.id}|${to}`;
    const key = `${windowKey}|${stats?.processed ?? ''}`;
    if (key === last.current.key) return;
    const minGapMs = range.minutes > 60 ? 10_000 : 0;
    if (windowKey === last.current.window && Date.now() - last.current.at < minGapMs) return;
    last.current = { key, window: windowKey, at: Date.now() };
    let cancelled = false;
    getJson<Series>(`stats/series${query({ from, to, step: range.step })}`)
      .then((next) => {
        if (!cancelled) {
          setSeries(next);
          setError(undefined);
        }
      })
      .catch((failure: unknown) => {
        if (!cancelled) {
          setError(failure);
          last.current = { key: '', window: '', at: 0 };
        }
      });
    return () => {
      cancelled = true;
    };
  }, [range.id, stats?.processed, stats]);

  // Each point counts [t, t + step): the last one is drawn up to the window's end.
  const data = useMemo(() => {
    const points = series?.points ?? [];
    const last = points[points.length - 1];
    const all = last && series ? [...points, { ...last, t: series.to }] : points;
    return [all.map((p) => Date.parse(p.t) / 1000), all.map((p) => p.received), all.map((p) => p.unique), all.map((p) => p.duplicate)];
  }, [series]);
  const sums = useMemo(
    () => (series?.points ?? []).reduce((acc, p) => ({ received: acc.received + p.received, unique: acc.unique + p.unique, duplicate: acc.duplicate + p.duplicate }), { received: 0, unique: 0, duplicate: 0 }),
    [series],
  );
  const per = range.step === 60 ? 'minute' : `${range.step / 60} minutes`;

  return (
    <section class="panel" aria-labelledby="throughput-title">
      <div class="panel-head">
        <h2 id="throughput-title">Throughput</h2>
        <div class="segmented" role="group" aria-label="Time range">
          {RANGES.map((candidate) => (
            <button
              key={candidate.id}
              type="button"
              aria-pressed={candidate.id === range.id}
              onClick={() => {
                sessionStorage.setItem('log-aggregator.range', candidate.id);
                setRangeId(candidate.id);
              }}
            >
              {candidate.id}
            </button>
          ))}
        </div>
      </div>
      {error !== undefined && !series ? (
        <Failure error={error} />
      ) : !series ? (
        <Loading what="the history" />
      ) : (
        <figure class="throughput" data-received-sum={sums.received} data-unique-sum={sums.unique} data-duplicate-sum={sums.duplicate}>
          <Chart label={`Events per ${per} over the last ${range.label}`} series={THROUGHPUT} data={data} yLabel={`events / ${per}`} />
          <figcaption>
            Last {range.label}, per {per}: <strong>{count(sums.received)}</strong> received, <strong>{count(sums.unique)}</strong> unique,{' '}
            <strong>{count(sums.duplicate)}</strong> duplicates.
          </figcaption>
        </figure>
      )}
    </section>
  );
};

export const Overview = () => {
  const { stats, error } = useLive();
  return (
    <>
      <h1>Overview</h1>
      {!stats ? error ? <Failure error={error} /> : <Loading what="the statistics" /> : <StatCards stats={stats} />}
      {stats && stats.received === 0 && stats.queue.visible === 0 && stats.queue.in_flight === 0 && (
        <div class="notice empty">
          <p>No events yet. Publish one and watch it arrive:</p>
          <PublishHint />
        </div>
      )}
      <Throughput stats={stats} />
      <section class="panel" aria-labelledby="top-title">
        <div class="panel-head">
          <h2 id="top-title">Top topics by volume</h2>
          <a href={href('topics')}>All topics</a>
        </div>
        {!stats ? null : stats.top_topics.length === 0 ? (
          <p class="notice empty">No topics yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="top-topics">
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  <th scope="col" class="num">Received</th>
                  <th scope="col" class="num">Unique</th>
                  <th scope="col" class="num">Duplicates</th>
                  <th scope="col" class="num">Dup. rate</th>
                </tr>
              </thead>
              <tbody>
                {stats.top_topics.map((topic) => (
                  <tr key={topic.topic} data-topic={topic.topic}>
                    <th scope="row">
                      <a href={href('events', { topic: topic.topic })}>{topic.topic}</a>
                    </th>
                    <td class="num">{count(topic.received)}</td>
                    <td class="num">{count(topic.unique)}</td>
                    <td class="num">{count(topic.duplicate)}</td>
                    <td class="num">{percent(topic.received ? topic.duplicate / topic.received : 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {stats?.started_at && (
        <p class="muted">
          Counting since {localTime(stats.started_at)} ({duration(stats.uptime_seconds)}).
        </p>
      )}
    </>
  );
};
