// Events: the filters of GET /events (topic, source, time range, order, severity, text and
// payload-field search) with cursor paging, and a live tail (GET /events/tail, long-polling) that can
// be paused. Two layouts: lines (one row per event, as a log viewer shows logs: time, severity, topic,
// source, message, the JSON one click away) and details (each event's whole payload).
import { useEffect, useRef, useState } from 'preact/hooks';
import { logLine, SEVERITIES, type Severity } from '../../../lib/core/log-line.ts';
import { eventUrl, getEvents, getJson, query, type LogEvent, type TopicsPage } from '../api.ts';
import { JsonView } from '../components/json-view.tsx';
import { Empty, Failure, Loading } from '../components/notice.tsx';
import { count, fromLocalInput, localClock, localTime, toLocalInput, zoneOf } from '../format.ts';
import { stringify, toPlain } from '../json.ts';
import { href, type Route } from '../route.ts';

const PAGE_SIZES = [25, 50, 100, 200];
const DEFAULT_PAGE = 50;
/** One "load more" reads at most this many pages (a content search may find few per page)… */
const MAX_REQUESTS_PER_LOAD = 20;
/** …or for this long, then says how far it got and offers to go on. */
const MAX_LOAD_MS = 8_000;
const TAIL_WAIT_SECONDS = 20;
const TAIL_KEEP = 500;

type Layout = 'lines' | 'details';

interface Filters {
  topic: string;
  source: string;
  from: string;
  to: string;
  order: string;
  severity: string;
  q: string;
  limit: number;
  fields: Array<[string, string]>;
  /** Not a filter: how the events are shown; kept in the URL with them. */
  view: Layout;
}

const readFilters = (params: URLSearchParams): Filters => ({
  topic: params.get('topic') ?? '',
  source: params.get('source') ?? '',
  from: params.get('from') ?? '',
  to: params.get('to') ?? '',
  order: params.get('order') ?? '',
  severity: (SEVERITIES as readonly string[]).includes(params.get('severity') ?? '') ? params.get('severity')! : '',
  q: params.get('q') ?? '',
  limit: PAGE_SIZES.includes(Number(params.get('limit'))) ? Number(params.get('limit')) : DEFAULT_PAGE,
  fields: [...params.entries()].filter(([name]) => name.startsWith('payload.')).map(([name, value]) => [name.slice('payload.'.length), value]),
  view: params.get('view') === 'details' ? 'details' : 'lines',
});

const toParams = (filters: Filters): URLSearchParams => {
  const params = new URLSearchParams();
  for (const name of ['topic', 'source', 'from', 'to', 'order', 'severity', 'q'] as const) if (filters[name].trim()) params.set(name, filters[name].trim());
  if (filters.limit !== DEFAULT_PAGE) params.set('limit', String(filters.limit));
  for (const [path, value] of filters.fields) if (path.trim()) params.set(`payload.${path.trim()}`, value);
  if (filters.view !== 'lines') params.set('view', filters.view);
  return params;
};

/** The API's parameters for the filters; the tail takes no time range or order. */
const apiParams = (filters: Filters, tail: boolean): Record<string, string | number | undefined> => {
  const params: Record<string, string | number | undefined> = {
    topic: filters.topic || undefined,
    source: filters.source || undefined,
    q: filters.q || undefined,
    severity: filters.severity || undefined,
    limit: filters.limit,
    ...(tail ? {} : { from: filters.from || undefined, to: filters.to || undefined, order: filters.order || undefined }),
  };
  for (const [path, value] of filters.fields) if (path) params[`payload.${path}`] = value;
  return params;
};

const searching = (filters: Filters): boolean => Boolean(filters.q) || Boolean(filters.severity) || filters.fields.length > 0;

/** One row per event, as a log viewer shows logs; the event's JSON opens under it. */
const EventLine = ({ event }: { event: LogEvent }) => {
  const [open, setOpen] = useState(false);
  const payload = toPlain(event.payload);
  const line = payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? logLine(payload as Record<string, unknown>) : {};
  const severity: Severity | undefined = line.severity;
  // Events that are not log lines (the JSON API's own) show their payload, compact.
  const message = line.message ?? stringify(event.payload, 0);
  return (
    <article class="event line" data-topic={event.topic} data-event-id={event.event_id} data-source={event.source} data-severity={severity ?? ''}>
      <div class="line-row">
        <time dateTime={event.timestamp} title={`${event.timestamp} (UTC); local time ${localTime(event.timestamp)}`}>
          <span class="date">{localClock(event.timestamp).slice(0, 6)}</span>
          {localClock(event.timestamp).slice(6)}
        </time>
        <span class={`severity severity-${severity ?? 'none'}`} title={line.severityText ? `severity: ${line.severityText}` : 'no severity'}>
          {severity ? severity.toUpperCase() : '—'}
        </span>
        <a class="tag" href={href('events', { topic: event.topic })} title={`Events of topic ${event.topic}`}>
          {event.topic}
        </a>
        <span class="source" title="source">
          {event.source}
        </span>
        <span class={line.message === undefined ? 'message muted' : 'message'} title={message.length > 120 ? message.slice(0, 2000) : undefined}>
          {message}
        </span>
        <button type="button" class="small line-toggle" aria-expanded={open} aria-label={`${open ? 'Hide' : 'Show'} the JSON of ${event.event_id}`} onClick={() => setOpen(!open)}>
          JSON
        </button>
      </div>
      {open && (
        <div class="line-detail">
          <p class="muted">
            <code class="event-id">{event.event_id}</code> · event time {event.timestamp} · stored {localTime(event.stored_at, true)} ·{' '}
            <a href={eventUrl(event)} target="_blank" rel="noopener">
              open as JSON ↗
            </a>
          </p>
          <JsonView value={event.payload} label={`payload of ${event.event_id}`} />
        </div>
      )}
    </article>
  );
};

const EventCard = ({ event }: { event: LogEvent }) => (
  <article class="event" data-topic={event.topic} data-event-id={event.event_id} data-source={event.source}>
    <header class="event-head">
      <time dateTime={event.timestamp} title={`local time ${localTime(event.timestamp)}`}>
        {event.timestamp}
      </time>
      <a class="tag" href={href('events', { topic: event.topic })} title={`Events of topic ${event.topic}`}>
        {event.topic}
      </a>
      <code class="event-id">{event.event_id}</code>
      <span class="source" title="source">
        {event.source}
      </span>
      <span class="event-actions">
        <a class="small button" href={eventUrl(event)} target="_blank" rel="noopener" aria-label={`Open ${event.event_id} as JSON (new tab)`}>
          JSON ↗
        </a>
      </span>
    </header>
    <JsonView value={event.payload} label={`payload of ${event.event_id}`} />
    <p class="event-foot muted">stored {localTime(event.stored_at, true)}</p>
  </article>
);

const FilterForm = ({ initial, topics }: { initial: Filters; topics: string[] }) => {
  const [form, setForm] = useState<Filters>(initial);
  const set = <K extends keyof Filters>(key: K, value: Filters[K]): void => setForm((current) => ({ ...current, [key]: value }));
  const setField = (index: number, part: 0 | 1, value: string): void =>
    setForm((current) => ({ ...current, fields: current.fields.map((pair, i) => (i === index ? (part === 0 ? [value, pair[1]] : [pair[0], value]) : pair)) }));
  return (
    <form
      class="filters"
      aria-label="Event filters"
      onSubmit={(event) => {
        event.preventDefault();
        location.hash = href('events', toParams(form));
      }}
    >
      <label class="field">
        <span>Topic</span>
        <input name="topic" list="topic-names" value={form.topic} placeholder="all topics" onInput={(e) => set('topic', e.currentTarget.value)} />
        <datalist id="topic-names">
          {topics.map((topic) => (
            <option key={topic} value={topic} />
          ))}
        </datalist>
      </label>
      <label class="field">
        <span>Source</span>
        <input name="source" value={form.source} placeholder="any source" onInput={(e) => set('source', e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>From (local time, {zoneOf(new Date())})</span>
        <input name="from" type="datetime-local" step="1" value={toLocalInput(form.from)} onInput={(e) => set('from', fromLocalInput(e.currentTarget.value) ?? '')} />
      </label>
      <label class="field">
        <span>To (local time, {zoneOf(new Date())})</span>
        <input name="to" type="datetime-local" step="1" value={toLocalInput(form.to)} onInput={(e) => set('to', fromLocalInput(e.currentTarget.value) ?? '')} />
      </label>
      {/* Selects get a label of their own (not around them): their options are no part of the name. */}
      <div class="field">
        <label for="filter-order">Order</label>
        <select id="filter-order" name="order" value={form.order} onChange={(e) => set('order', e.currentTarget.value)}>
          <option value="">default</option>
          <option value="asc">oldest first</option>
          <option value="desc">newest first</option>
        </select>
      </div>
      <div class="field">
        <label for="filter-severity">Severity</label>
        <select id="filter-severity" name="severity" value={form.severity} onChange={(e) => set('severity', e.currentTarget.value)}>
          <option value="">any</option>
          {SEVERITIES.map((severity) => (
            <option key={severity} value={severity}>
              {severity === 'fatal' ? 'fatal' : `${severity} or worse`}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-limit">Page size</label>
        <select id="filter-limit" name="limit" value={String(form.limit)} onChange={(e) => set('limit', Number(e.currentTarget.value))}>
          {PAGE_SIZES.map((size) => (
            <option key={size} value={String(size)}>
              {size}
            </option>
          ))}
        </select>
      </div>
      <label class="field wide">
        <span>Text in the payload</span>
        <input name="q" type="search" value={form.q} placeholder="e.g. timeout" onInput={(e) => set('q', e.currentTarget.value)} />
      </label>
      {form.fields.map(([path, value], index) => (
        <fieldset class="field-filter" key={index}>
          <legend class="offscreen">Payload field filter {index + 1}</legend>
          <label class="field">
            <span>Payload field</span>
            <input name={`field-${index}`} value={path} placeholder="user.id" onInput={(e) => setField(index, 0, e.currentTarget.value)} />
          </label>
          <label class="field">
            <span>equals</span>
            <input name={`value-${index}`} value={value} placeholder="u42" onInput={(e) => setField(index, 1, e.currentTarget.value)} />
          </label>
          <button type="button" class="small" aria-label={`Remove payload field filter ${index + 1}`} onClick={() => set('fields', form.fields.filter((_, i) => i !== index))}>
            Remove
          </button>
        </fieldset>
      ))}
      <div class="form-actions">
        <button type="button" class="small" onClick={() => set('fields', [...form.fields, ['', '']])}>
          Add payload field filter
        </button>
        <span class="grow" />
        <a class="button" href={href('events')}>
          Clear
        </a>
        <button type="submit" class="primary">
          Apply filters
        </button>
      </div>
    </form>
  );
};

export const Events = ({ route }: { route: Route }) => {
  const filters = readFilters(route.params);
  const [topics, setTopics] = useState<string[]>([]);
  const [events, setEvents] = useState<LogEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [phase, setPhase] = useState<'loading' | 'more' | 'ready'>('loading');
  const [examined, setExamined] = useState(0);
  const [error, setError] = useState<unknown>();
  const [following, setFollowing] = useState(false);
  const [tail, setTail] = useState<LogEvent[]>([]);
  const [tailError, setTailError] = useState<unknown>();
  const tailCursor = useRef<string | null>(null);
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    getJson<TopicsPage>('topics?limit=100')
      .then((page) => setTopics(page.topics.map((topic) => topic.topic)))
      .catch(() => undefined);
    void load(null);
    return () => abort.current?.abort();
  }, []);

  /** Pages until `limit` more events are in, or the end, or the per-load budget. */
  const load = async (after: string | null): Promise<void> => {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setPhase(after ? 'more' : 'loading');
    setError(undefined);
    const started = Date.now();
    let next = after;
    let found: LogEvent[] = [];
    let read = 0;
    try {
      for (let requests = 0; ; requests += 1) {
        const page = await getEvents(`events${query({ ...apiParams(filters, false), cursor: next })}`, { signal: controller.signal });
        found = [...found, ...page.events];
        read += page.examined;
        next = page.next_cursor;
        if (!next || found.length >= filters.limit || requests + 1 >= MAX_REQUESTS_PER_LOAD || Date.now() - started > MAX_LOAD_MS) break;
      }
      setEvents((current) => (after ? [...current, ...found] : found));
      setExamined((current) => current + read);
      setCursor(next);
    } catch (failure) {
      if (controller.signal.aborted) return;
      // Keep what was found before the failure, and the cursor to go on from.
      if (found.length) setEvents((current) => [...current, ...found]);
      setCursor(next);
      setError(failure);
    }
    setPhase('ready');
  };

  // The live tail: the newest events first, then long-polls for what arrives, until paused.
  useEffect(() => {
    if (!following) return undefined;
    const controller = new AbortController();
    const run = async (): Promise<void> => {
      while (!controller.signal.aborted) {
        try {
          const waiting = tailCursor.current !== null;
          const page = await getEvents(
            `events/tail${query({ ...apiParams(filters, true), cursor: tailCursor.current, wait: waiting ? TAIL_WAIT_SECONDS : undefined })}`,
            { signal: controller.signal, timeoutMs: (TAIL_WAIT_SECONDS + 15) * 1000 },
          );
          tailCursor.current = page.next_cursor;
          setTailError(undefined);
          if (page.events.length) setTail((current) => [...[...page.events].reverse(), ...current].slice(0, TAIL_KEEP));
        } catch (failure) {
          if (controller.signal.aborted) return;
          setTailError(failure);
          await new Promise((resolve) => setTimeout(resolve, 3_000));
        }
      }
    };
    void run();
    return () => controller.abort();
  }, [following]);

  const active = [...toParams(filters).keys()].filter((name) => name !== 'limit' && name !== 'order' && name !== 'view').length;
  const Item = filters.view === 'lines' ? EventLine : EventCard;
  const layout = (view: Layout): string => href('events', toParams({ ...filters, view }));
  return (
    <>
      <h1>Events{filters.topic ? `: ${filters.topic}` : ''}</h1>
      <FilterForm initial={filters} topics={topics} />
      <div class="toolbar mode">
        <div class="segmented" role="group" aria-label="Mode">
          <button type="button" aria-pressed={!following} onClick={() => setFollowing(false)}>
            Browse
          </button>
          <button type="button" aria-pressed={following} onClick={() => setFollowing(true)}>
            Live tail
          </button>
        </div>
        <div class="segmented" role="group" aria-label="Layout">
          <button type="button" aria-pressed={filters.view === 'lines'} onClick={() => (location.hash = layout('lines'))}>
            Lines
          </button>
          <button type="button" aria-pressed={filters.view === 'details'} onClick={() => (location.hash = layout('details'))}>
            Details
          </button>
        </div>
        {following ? (
          <p class="muted" role="status">
            <span class="pulse" aria-hidden="true" /> Following new events as they are stored
            {filters.topic ? ` in ${filters.topic}` : ''} (time range and order do not apply). {count(tail.length)} shown.{' '}
            <button type="button" class="small" onClick={() => setFollowing(false)}>
              Pause
            </button>
          </p>
        ) : (
          <p class="muted" role="status">
            {phase === 'loading'
              ? ''
              : `${count(events.length)} event${events.length === 1 ? '' : 's'}${cursor ? ', more to load' : ''}${active > 0 ? ` matching ${active} filter${active === 1 ? '' : 's'}` : ''}${searching(filters) ? ` (${count(examined)} examined)` : ''}`}
            {!following && tailCursor.current && tail.length > 0 && ' Live tail paused: resume to catch up from where it stopped.'}
          </p>
        )}
      </div>
      {following ? (
        <section aria-label="Live tail" class={`event-list ${filters.view}`}>
          {tailError !== undefined && <Failure error={tailError} />}
          {tail.length === 0 && tailError === undefined && <Empty>Waiting for events… new ones appear here within a few seconds of being stored.</Empty>}
          {tail.map((event) => (
            <Item key={`${event.topic}\u0000${event.event_id}`} event={event} />
          ))}
        </section>
      ) : (
        <section aria-label="Events" class={`event-list ${filters.view}`}>
          {phase === 'loading' ? (
            <Loading what="events" />
          ) : events.length === 0 && error === undefined ? (
            <Empty>
              {cursor
                ? 'Nothing matched in what was searched so far. Keep searching with “Load more”.'
                : active > 0
                  ? 'No event matches these filters.'
                  : 'No events stored yet. Publish some (see Overview) and they appear here.'}
            </Empty>
          ) : (
            events.map((event) => <Item key={`${event.topic}\u0000${event.event_id}`} event={event} />)
          )}
          {error !== undefined && <Failure error={error} retry={() => void load(events.length ? cursor : null)} />}
          {phase !== 'loading' && (cursor ? (
            <button type="button" class="more" disabled={phase === 'more'} onClick={() => void load(cursor)}>
              {phase === 'more' ? 'Loading…' : searching(filters) ? 'Load more (keep searching)' : 'Load more'}
            </button>
          ) : (
            events.length > 0 && <p class="muted end">End of the results.</p>
          ))}
        </section>
      )}
    </>
  );
};
