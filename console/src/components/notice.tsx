// Loading, empty and error states, written for people: what is going on and what to do.
import type { ComponentChildren } from 'preact';
import { describeError } from '../api.ts';

export const Loading = ({ what }: { what: string }) => (
  <p class="notice loading" role="status">
    <span class="spinner" aria-hidden="true" /> Loading {what}…
  </p>
);

export const Empty = ({ children }: { children: ComponentChildren }) => <div class="notice empty">{children}</div>;

export const Failure = ({ error, retry }: { error: unknown; retry?: () => void }) => (
  <div class="notice error" role="alert">
    <p>{describeError(error)}</p>
    {retry && (
      <button type="button" onClick={retry}>
        Try again
      </button>
    )}
  </div>
);

/** How to publish a first event, for empty tables. */
export const PublishHint = () => {
  const url = new URL('publish', document.baseURI).toString();
  return (
    <pre class="hint">
      {`curl -X POST ${url} -H 'content-type: application/json' \\\n  -d '{"topic":"orders","event_id":"o-1","timestamp":"${new Date().toISOString().slice(0, 19)}Z","source":"shop","payload":{"total":42.5}}'`}
    </pre>
  );
};
