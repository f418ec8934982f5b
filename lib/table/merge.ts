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
  options: {
    limit: number;
    before: (a: T, b: T) => boolean;
    fetch: (source: MergeSource<T>) => Promise<void>;
    /** Items taken but not accepted advance the sources and do not count toward `limit`. */
    accept?: (item: T) => boolean;
    /** Checked before every fetch: true ends the merge where it stands (a budget ran out). */
    stop?: () => boolean;
  },
): Promise<T[]> => {
  const out: T[] = [];
  let stopped = false;
  const refill = async (source: MergeSource<T>): Promise<void> => {
    while (source.buffer.length === 0 && !source.done && !stopped) {
      if (options.stop?.()) stopped = true;
      else await options.fetch(source);
    }
  };
  while (out.length < options.limit) {
    await Promise.all(sources.map(refill));
    // Out of budget with a source that may hold the next item: the order can no longer be decided.
    if (stopped && sources.some((source) => source.buffer.length === 0 && !source.done)) break;
    let best: MergeSource<T> | undefined;
    for (const source of sources) {
      const head = source.buffer[0];
      if (head !== undefined && (!best || options.before(head, best.buffer[0]!))) best = source;
    }
    if (!best) break;
    const item = best.buffer.shift()!;
    best.last = item;
    if (!options.accept || options.accept(item)) out.push(item);
  }
  return out;
};
