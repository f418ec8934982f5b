// The tail item: one per message that stored events, naming those events' keys in the order the
// message carried them. The live tail reads these (one index entry per message) instead of one index
// entry per event (docs/cost.md).
import { compress, decompress } from './compression.ts';
import { arrivalShardKey, arrivalSortKey, tailPk } from './keys.ts';
import { EXPIRES, INDEX, PK, TAIL_KEYS } from './schema.ts';

type Item = Record<string, unknown>;

export const toTailItem = (batch: string, storedAt: string, keys: string[], expiresAt: number): Item => {
  const text = Buffer.from(JSON.stringify(keys), 'utf8');
  return {
    [PK]: tailPk(batch),
    [INDEX.arrival.partitionKey]: arrivalShardKey(batch),
    [INDEX.arrival.sortKey]: arrivalSortKey(batch, storedAt),
    // Brotli, as event bodies (event-item.ts): keys of one message share their topics and id shapes.
    [TAIL_KEYS]: compress(text),
    n: keys.length,
    [EXPIRES]: expiresAt,
  };
};

export const tailKeysOf = (item: Item): string[] => JSON.parse(decompress(item[TAIL_KEYS] as Uint8Array).toString('utf8')) as string[];
