// Realistic log events with a chosen share of exact repeats, deterministic for a given seed.
export interface GeneratedEvent {
  topic: string;
  event_id: string;
  timestamp: string;
  source: string;
  payload: Record<string, unknown>;
}

export interface Workload {
  events: GeneratedEvent[];
  distinct: number;
  duplicates: number;
  topics: string[];
}

const TOPIC_NAMES = ['orders', 'payments', 'auth', 'search', 'email', 'inventory', 'shipping', 'billing', 'profile', 'audit'];
const SOURCES = ['api-gateway', 'checkout-svc', 'worker-3', 'edge-eu-1', 'cron'];
const LEVELS = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR'];
const PATHS = ['/v1/orders', '/v1/pay', '/login', '/search?q=socks', '/v2/items/42'];

/** mulberry32: a small, fast, seedable PRNG, so a run can be reproduced exactly. */
const prng = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const generateWorkload = (options: {
  events: number;
  dupRate: number;
  topics: number;
  seed: number;
  runId: string;
  startTime?: number;
}): Workload => {
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const topics = Array.from({ length: options.topics }, (_, i) => TOPIC_NAMES[i] ?? `topic-${i}`);
  const duplicates = Math.round(options.events * options.dupRate);
  const distinct = options.events - duplicates;
  const start = options.startTime ?? Date.UTC(2026, 10, 22, 8, 0, 0);
  const originals: GeneratedEvent[] = Array.from({ length: distinct }, (_, i) => {
    const status = pick([200, 200, 200, 201, 204, 400, 404, 500]);
    return {
      topic: topics[i % topics.length]!,
      event_id: `${options.runId}-${i.toString(36).padStart(6, '0')}`,
      // Several events share each millisecond, as real logs do.
      timestamp: new Date(start + Math.floor(i / 3)).toISOString(),
      source: pick(SOURCES),
      payload: {
        level: pick(LEVELS),
        message: `request ${i} finished with ${status}`,
        http: { method: pick(['GET', 'POST', 'PUT']), path: pick(PATHS), status, latency_ms: Math.round(random() * 2500) / 10 },
        user: { id: `u-${Math.floor(random() * 5000)}`, region: pick(['eu-west-1', 'us-east-1', 'ap-south-1']) },
        tags: ['synthetic', pick(['canary', 'prod', 'batch'])],
      },
    };
  });
  // Shuffle which positions are new events and which are repeats; a repeat copies an event already
  // emitted, so it always comes after its original. O(n), so 200,000 events take milliseconds.
  const isRepeat = [...Array<boolean>(distinct).fill(false), ...Array<boolean>(duplicates).fill(true)];
  for (let i = isRepeat.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [isRepeat[i], isRepeat[j]] = [isRepeat[j]!, isRepeat[i]!];
  }
  const firstNew = isRepeat.indexOf(false);
  if (firstNew > 0) [isRepeat[0], isRepeat[firstNew]] = [false, true];
  const events: GeneratedEvent[] = [];
  let next = 0;
  for (const repeat of isRepeat) {
    events.push(repeat ? originals[Math.floor(random() * next)]! : originals[next++]!);
  }
  return { events, distinct, duplicates, topics };
};
