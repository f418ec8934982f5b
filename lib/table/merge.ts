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
    /** Reads more into the source's buffer; `wanted`: items the merge can still take from it, plus one. */
    fetch: (source: MergeSource<T>, wanted: number) => Promise<void>;
    /**
     * Items taken but not accepted advance the sources and do not count toward `limit`. It may answer
     * asynchronously (a keys-only index's entry is accepted on its item, read when first asked).
     */
    accept?: (item: T) => boolean | Promise<boolean>;
    /** Checked before every fetch: true ends the merge where it stands (a budget ran out). */
    stop?: () => boolean;
  },
): Promise<T[]> => {
  const out: T[] = [];
  let stopped = false;
  const refill = async (source: MergeSource<T>): Promise<void> => {
    while (source.buffer.length === 0 && !source.done && !stopped) {
      if (options.stop?.()) stopped = true;
      else await options.fetch(source, options.limit - out.length + 1);
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
    if (!options.accept || (await options.accept(item))) out.push(item);
  }
  return out;
};

/**
 * After a merge filled its page: whether any source still holds an item `accept` takes, i.e. whether
 * there is a next page. The order no longer matters, since every source resumes from its own position:
 * items `accept` refuses are passed over (they advance their source, as in the merge). True, undecided,
 * when `stop` ends the search first.
 */
export const anyMore = async <T>(
  sources: Array<MergeSource<T>>,
  options: { fetch: (source: MergeSource<T>, wanted: number) => Promise<void>; accept?: (item: T) => boolean | Promise<boolean>; stop?: () => boolean },
): Promise<boolean> => {
  const acceptedHead = async (source: MergeSource<T>): Promise<boolean> => {
    while (source.buffer.length > 0) {
      if (!options.accept || (await options.accept(source.buffer[0]!))) return true;
      source.last = source.buffer.shift();
    }
    return false;
  };
  // What is already read first, then one more read at a time from the sources not yet exhausted.
  for (const source of sources) if (await acceptedHead(source)) return true;
  for (const source of sources) {
    while (!source.done) {
      if (options.stop?.()) return true;
      await options.fetch(source, 1);
      if (await acceptedHead(source)) return true;
    }
  }
  return false;
};
