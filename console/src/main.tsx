// The web console: GET / on the stack. A single page on the JSON API, in Preact and uPlot.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { describeError, needsKey, readKey, setReadKey } from './api.ts';
import { ago } from './format.ts';
import { refreshStats, startPolling, useLive } from './live.ts';
import { href, useRoute, VIEWS } from './route.ts';
import { Events } from './views/events.tsx';
import { Overview } from './views/overview.tsx';
import { Queue } from './views/queue.tsx';
import { Topics } from './views/topics.tsx';

const Status = () => {
  const { stats, error, checkedAt } = useLive();
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, []);
  const down = error !== undefined;
  return (
    <p class={`live ${down ? 'down' : stats ? 'up' : ''}`} role="status">
      <span class="dot" aria-hidden="true" />
      {needsKey(error) ? 'key needed' : down ? 'API not answering' : stats ? `live · updated ${ago(Date.now() - (checkedAt ?? Date.now()))}` : 'connecting…'}
      {readKey() && !needsKey(error) && (
        <button
          type="button"
          class="small forget"
          onClick={() => {
            setReadKey('');
            void refreshStats();
          }}
        >
          Forget key
        </button>
      )}
    </p>
  );
};

/** Shown instead of the views while reads are refused: the stack wants a read key. */
const KeyGate = ({ error }: { error: unknown }) => {
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const tried = readKey() !== '';
  return (
    <section class="panel gate" aria-labelledby="gate-title">
      <h1 id="gate-title">An API key is needed to read</h1>
      <p>
        This stack keeps its reads behind keys (READ_API_KEYS). Enter a read or admin key: it is kept in this browser tab's session only and
        sent as <code>x-api-key</code>.
      </p>
      {tried && (
        <p class="notice error" role="alert">
          Refused: {describeError(error)}
        </p>
      )}
      <form
        class="key-form"
        aria-label="Read key"
        onSubmit={async (event) => {
          event.preventDefault();
          if (!draft.trim()) return;
          setBusy(true);
          setReadKey(draft.trim());
          setDraft('');
          await refreshStats();
          setBusy(false);
        }}
      >
        <label class="field">
          <span>API key</span>
          <input name="read-key" type="password" autocomplete="off" required value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
        </label>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            Use this key
          </button>
        </div>
      </form>
    </section>
  );
};

const Banner = () => {
  const { error } = useLive();
  if (!error || needsKey(error)) return null;
  return (
    <div class="banner" role="alert">
      {describeError(error)} Retrying every 2 s; what is shown may be out of date.
    </div>
  );
};

const App = () => {
  const route = useRoute();
  const { error } = useLive();
  useEffect(() => {
    const title = VIEWS.find((view) => view.view === route.view)?.title ?? '';
    document.title = `${title} · log-aggregator`;
  }, [route.view]);
  return (
    <>
      {/* Not a plain #main link: the hash is the router's. */}
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('overview')}>
          log-aggregator
        </a>
        <nav aria-label="Views">
          {VIEWS.map(({ view, title }) => (
            <a key={view} href={href(view)} aria-current={route.view === view ? 'page' : undefined}>
              {title}
            </a>
          ))}
          {/* A page of its own (GET /api-docs, functions/openapi.ts): every route, rendered from GET /openapi.json. */}
          <a href="api-docs" title="The HTTP API: every route, rendered from its OpenAPI contract">
            API
          </a>
        </nav>
        <Status />
      </header>
      <Banner />
      <main id="main" tabIndex={-1}>
        {needsKey(error) && <KeyGate error={error} />}
        {!needsKey(error) && route.view === 'overview' && <Overview />}
        {!needsKey(error) && route.view === 'topics' && <Topics />}
        {!needsKey(error) && route.view === 'events' && <Events key={route.key} route={route} />}
        {!needsKey(error) && route.view === 'queue' && <Queue />}
      </main>
    </>
  );
};

startPolling();
const root = document.getElementById('app')!;
// Preact renders next to what is there: drop the "Loading the console…" placeholder first.
root.textContent = '';
render(<App />, root);
