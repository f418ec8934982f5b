// How event bodies and tail items are compressed: brotli at quality 5 (event-item.ts says why), with
// output buffers sized to what one item needs. Node's one-shot calls otherwise allocate a 16 KB output
// chunk per call, which for items of a few hundred bytes was most of the cost: a page decompresses
// 100 bodies, and a search up to thousands (`npm run bench:compression`, BENCHMARKS.md "/events pages").
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

/** Smallest output chunk: below it, the per-chunk work outweighs what a smaller buffer saves. */
const MIN_CHUNK = 1024;
/** Largest first guess: a body can inflate more, it then takes further chunks. */
const MAX_CHUNK = 64 * 1024;

export const compress = (bytes: Buffer): Buffer =>
  brotliCompressSync(bytes, {
    // Compressed output is rarely larger than its input; room for brotli's few bytes of framing.
    chunkSize: Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, bytes.length + 64)),
    params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });

// Three times the compressed size: one chunk for most log bodies (they compress 2 to 3 times), and a
// second one is cheaper than a buffer too large every time (`npm run bench:compression` weighs these).
export const decompress = (bytes: Uint8Array): Buffer => brotliDecompressSync(bytes, { chunkSize: Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, bytes.length * 3)) });
