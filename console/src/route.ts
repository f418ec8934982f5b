// Views live in the URL's hash (#/events?topic=orders): a reload, the back button and a shared link
// all land on the same view with the same filters, and the server only ever serves `/`.
import { useEffect, useState } from 'preact/hooks';

export type View = 'overview' | 'topics' | 'events' | 'queue';
export const VIEWS: Array<{ view: View; title: string }> = [
  { view: 'overview', title: 'Overview' },
  { view: 'topics', title: 'Topics' },
  { view: 'events', title: 'Events' },
  { view: 'queue', title: 'Queue' },
];

export interface Route {
  view: View;
  params: URLSearchParams;
  /** The hash's query, as a key for views that start over when it changes. */
  key: string;
}

export const parseRoute = (hash: string): Route => {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const view = (VIEWS.find((candidate) => candidate.view === path)?.view ?? 'overview') as View;
  const params = new URLSearchParams(search);
  return { view, params, key: `${view}?${params.toString()}` };
};

export const href = (view: View, params: Record<string, string | undefined> | URLSearchParams = {}): string => {
  const search = params instanceof URLSearchParams ? params : new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => Boolean(entry[1])));
  const text = search.toString();
  return `#/${view}${text ? `?${text}` : ''}`;
};

export const useRoute = (): Route => {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
};
