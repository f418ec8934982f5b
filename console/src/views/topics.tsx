// Every topic with its counts: paged from /topics (by name), filtered and sorted in the page.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { getJson, query, type Topic, type TopicsPage } from '../api.ts';
import { Empty, Failure, Loading, PublishHint } from '../components/notice.tsx';
import { count, localTime, percent } from '../format.ts';
import { href } from '../route.ts';

type Column = 'topic' | 'received' | 'unique' | 'duplicate' | 'rate' | 'last_event_at';
const COLUMNS: Array<{ id: Column; label: string; numeric?: boolean }> = [
  { id: 'topic', label: 'Topic' },
  { id: 'received', label: 'Received', numeric: true },
  { id: 'unique', label: 'Unique', numeric: true },
  { id: 'duplicate', label: 'Duplicates', numeric: true },
  { id: 'rate', label: 'Dup. rate', numeric: true },
  { id: 'last_event_at', label: 'Last event' },
];
const PAGE = 100;

const rate = (topic: Topic): number => (topic.received ? topic.duplicate / topic.received : 0);
const sortValue = (topic: Topic, column: Column): string | number =>
  column === 'rate' ? rate(topic) : column === 'topic' ? topic.topic : column === 'last_event_at' ? (topic.last_event_at ?? '') : topic[column];

export const Topics = () => {
  const [topics, setTopics] = useState<Topic[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'more'>('loading');
  const [error, setError] = useState<unknown>();
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ column: Column; descending: boolean }>({ column: 'topic', descending: false });

  const load = async (after: string | null): Promise<void> => {
    setState(after ? 'more' : 'loading');
    try {
      const page = await getJson<TopicsPage>(`topics${query({ limit: PAGE, cursor: after })}`);
      setTopics((current) => (after ? [...current, ...page.topics] : page.topics));
      setCursor(page.next_cursor);
      setError(undefined);
    } catch (failure) {
      setError(failure);
    }
    setState('ready');
  };
  useEffect(() => {
    void load(null);
  }, []);

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const kept = needle ? topics.filter((topic) => topic.topic.toLowerCase().includes(needle)) : [...topics];
    const direction = sort.descending ? -1 : 1;
    return kept.sort((a, b) => {
      const [x, y] = [sortValue(a, sort.column), sortValue(b, sort.column)];
      return (x < y ? -1 : x > y ? 1 : a.topic < b.topic ? -1 : 1) * direction;
    });
  }, [topics, filter, sort]);

  const header = (column: (typeof COLUMNS)[number]) => {
    const active = sort.column === column.id;
    return (
      <th key={column.id} scope="col" class={column.numeric ? 'num' : undefined} aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
        <button
          type="button"
          class="sort"
          onClick={() => setSort({ column: column.id, descending: active ? !sort.descending : Boolean(column.numeric) })}
        >
          {column.label}
          <span class="sort-mark" aria-hidden="true">
            {active ? (sort.descending ? ' ▼' : ' ▲') : ''}
          </span>
        </button>
      </th>
    );
  };

  return (
    <>
      <h1>Topics</h1>
      <div class="toolbar">
        <label class="field grow">
          <span>Filter topics</span>
          <input type="search" value={filter} placeholder="part of a topic name" onInput={(event) => setFilter(event.currentTarget.value)} />
        </label>
        <p class="muted" role="status">
          {state === 'loading' ? '' : `${count(shown.length)} of ${count(topics.length)} topic${topics.length === 1 ? '' : 's'} loaded${cursor ? ' (more to load)' : ''}`}
        </p>
      </div>
      {error !== undefined && <Failure error={error} retry={() => void load(topics.length ? cursor : null)} />}
      {state === 'loading' ? (
        <Loading what="topics" />
      ) : topics.length === 0 && error === undefined ? (
        <Empty>
          <p>No topics yet: a topic appears when its first event is processed. Publish one:</p>
          <PublishHint />
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="topics">
            <thead>
              <tr>{COLUMNS.map(header)}</tr>
            </thead>
            <tbody>
              {shown.map((topic) => (
                <tr key={topic.topic} data-topic={topic.topic}>
                  <th scope="row">
                    <a href={href('events', { topic: topic.topic })} title={`Events of ${topic.topic}`}>
                      {topic.topic}
                    </a>
                  </th>
                  <td class="num">{count(topic.received)}</td>
                  <td class="num">{count(topic.unique)}</td>
                  <td class="num">{count(topic.duplicate)}</td>
                  <td class="num">{percent(rate(topic))}</td>
                  <td>{localTime(topic.last_event_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length === 0 && <p class="notice empty">No loaded topic matches “{filter}”.</p>}
        </div>
      )}
      {cursor && state !== 'loading' && (
        <button type="button" class="more" disabled={state === 'more'} onClick={() => void load(cursor)}>
          {state === 'more' ? 'Loading…' : 'Load more topics'}
        </button>
      )}
    </>
  );
};
