// The live state every view shares: /stats polled every couple of seconds (only while the page is
// visible), and the queue's depth over time. The API keeps no history of the queue, so the console
// samples it while it is open and keeps the samples for the browser session (a reload keeps them).
import { useEffect, useState } from 'preact/hooks';
import { getJson, type ApiError, type Stats } from './api.ts';

export const POLL_MS = 2_000;
const QUEUE_SAMPLES = 1_800; // an hour at one sample every 2 s
const QUEUE_KEY = 'log-aggregator.queue-samples';

export interface QueueSample {
  /** Epoch seconds. */
  t: number;
  visible: number;
  in_flight: number;
  delayed: number;
  dlq: number;
}

export interface LiveState {
  stats?: Stats;
  error?: ApiError;
  /** Epoch ms of the last answer (good or bad). */
  checkedAt?: number;
  queue: QueueSample[];
}

const loadSamples = (): QueueSample[] => {
  try {
    const saved = JSON.parse(sessionStorage.getItem(QUEUE_KEY) ?? '[]') as QueueSample[];
    return Array.isArray(saved) ? saved.slice(-QUEUE_SAMPLES) : [];
  } catch {
    return [];
  }
};

let state: LiveState = { queue: loadSamples() };
const listeners = new Set<(next: LiveState) => void>();
const publish = (next: LiveState): void => {
  state = next;
  for (const listener of listeners) listener(state);
};

let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight = false;

export const refreshStats = async (): Promise<void> => {
  if (inFlight) return;
  inFlight = true;
  try {
    const stats = await getJson<Stats>('stats', { timeoutMs: 10_000 });
    const sample: QueueSample = { t: Math.floor(Date.now() / 1000), ...stats.queue };
    const queue = [...state.queue, sample].slice(-QUEUE_SAMPLES);
    try {
      sessionStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
    } catch {
      // storage full or disabled: the samples still live in memory
    }
    publish({ stats, queue, checkedAt: Date.now() });
  } catch (error) {
    publish({ ...state, error: error as ApiError, checkedAt: Date.now() });
  } finally {
    inFlight = false;
  }
};

const schedule = (): void => {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (document.visibilityState === 'visible') await refreshStats();
    schedule();
  }, POLL_MS);
};

export const startPolling = (): void => {
  void refreshStats();
  schedule();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refreshStats();
  });
};

export const useLive = (): LiveState => {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    listeners.add(setCurrent);
    setCurrent(state);
    return () => {
      listeners.delete(setCurrent);
    };
  }, []);
  return current;
};
