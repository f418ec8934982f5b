// Event bodies and tail items are brotli-compressed with output buffers sized to the item
// (lib/table/compression.ts). The sizing must change nothing of what is stored or read back: the same
// bytes as brotli with default buffers (items written before read the same), and whole round trips
// for bodies that inflate far past the first buffer.
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { compress, decompress } from '../../lib/table/compression.ts';

const earlier = (bytes: Buffer) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });

const bodies: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['a short log line', Buffer.from('{"t":"2026-12-02T10:00:00Z","s":"api","a":"2026-12-02T10:00:01Z","p":{"msg":"ok"}}')],
  ['1 KB of words and numbers', Buffer.from(JSON.stringify({ p: Array.from({ length: 60 }, (_, i) => `order ${i * 7919} shipped to eu-west-${i % 3}`) }))],
  // About 1,000 times smaller compressed: far more than the first output buffer holds.
  ['300 KB of one letter', Buffer.from('a'.repeat(300_000))],
  ['64 KB of random bytes (larger compressed than raw)', randomBytes(65_536)],
];

describe.each(bodies)('%s', (_name, body) => {
  it('compresses to the same bytes as brotli with its default buffers', () => {
    expect(compress(body).equals(earlier(body))).toBe(true);
  });

  it('reads back whole, and reads what the earlier buffers wrote', () => {
    expect(decompress(compress(body)).equals(body)).toBe(true);
    expect(decompress(earlier(body)).equals(brotliDecompressSync(earlier(body)))).toBe(true);
  });
});

it('has a body among these that is larger compressed than raw (a compression buffer sized to the input is too small)', () => {
  const [, random] = bodies.at(-1)!;
  expect(compress(random).length).toBeGreaterThan(random.length);
});
