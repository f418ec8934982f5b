// A k-way merge over sorted sources that are fetched lazily, page by page. An item is emitted only when
// every source that may still hold items has a buffered head to compare it with, so the order is exact.

export interface MergeSource<T> {
  buffer: T[];
  done: boolean;
  /** The last item emitted from this source, if any (where it resumes). */
  last?: T;
}

export const mergeSorted = async <T>(
  sources: Array<MergeSource<T>>,
  options: { limit: number; before: (a: T, b: T) => boolean; fetch: (source: MergeSource<T>) => Promise<void> },
): Promise<T[]> => {
  const out: T[] = [];
  const refill = async (source: MergeSource<T>): Promise<void> => {
    while (source.buffer.length === 0 && !source.done) await options.fetch(source);
  };
  while (out.length < options.limit) {
    await Promise.all(sources.map(refill));
    let best: MergeSource<T> | undefined;
    for (const source of sources) {
      const head = source.buffer[0];
      if (head !== undefined && (!best || options.before(head, best.buffer[0]!))) best = source;
    }
    if (!best) break;
    const item = best.buffer.shift()!;
    best.last = item;
    out.push(item);
  }
  return out;
};
