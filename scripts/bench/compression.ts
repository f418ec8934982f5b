// `npm run bench:compression`: what compressing and decompressing one event body costs, with Node's
// default output buffers (16 KB a call) and with the buffers lib/table/compression.ts sizes to the
// item, alternated in one run (machines here differ by 2x between sessions: compare within a run).
// Bodies are realistic log lines: the body JSON the event item stores, payloads of words, ids, numbers.
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { compress, decompress } from '../../lib/table/compression.ts';

const words = 'order payment shipped failed retry user session checkout cart item warehouse region latency status timeout'.split(' ');
let seed = 42;
const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
const payload = (bytes: number): Record<string, unknown> => {
  const fields: Record<string, unknown> = {};
  for (let i = 0; JSON.stringify(fields).length < bytes; i += 1) {
    fields[`${words[i % words.length]}_${i}`] = random() < 0.5 ? `${words[Math.floor(random() * words.length)]} ${Math.floor(random() * 1e6)}` : Math.floor(random() * 1e9);
  }
  return fields;
};
const body = (bytes: number): Buffer =>
  Buffer.from(JSON.stringify({ t: '2026-12-03T00:00:00.000Z', s: 'worker-3', a: '2026-12-03T00:00:01.234Z', p: payload(bytes) }));

const params = (bytes: Buffer) => ({ params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
const variants = {
  'default buffers': { compress: (bytes: Buffer) => brotliCompressSync(bytes, params(bytes)), decompress: (bytes: Buffer) => brotliDecompressSync(bytes) },
  'sized buffers (lib/table/compression.ts)': { compress, decompress },
};

/** Microseconds per call, over `passes` passes of every input. */
const time = (run: (input: Buffer) => unknown, inputs: Buffer[], passes: number): number => {
  for (const input of inputs) run(input);
  const started = performance.now();
  for (let pass = 0; pass < passes; pass += 1) for (const input of inputs) run(input);
  return ((performance.now() - started) * 1000) / (passes * inputs.length);
};

for (const size of [200, 1000]) {
  const bodies = Array.from({ length: 100 }, () => body(size));
  const compressed = bodies.map((bytes) => compress(bytes));
  const average = (list: Buffer[]) => Math.round(list.reduce((sum, bytes) => sum + bytes.length, 0) / list.length);
  console.log(`\n${size}-byte payloads: bodies of ${average(bodies)} bytes, ${average(compressed)} compressed; µs per body, 3 alternated rounds of 100 passes`);
  const results = new Map<string, { compress: number[]; decompress: number[] }>();
  for (let round = 0; round < 3; round += 1) {
    for (const [name, variant] of Object.entries(variants)) {
      const entry = results.get(name) ?? { compress: [], decompress: [] };
      entry.compress.push(time(variant.compress, bodies, 100));
      entry.decompress.push(time(variant.decompress, compressed, 100));
      results.set(name, entry);
    }
  }
  for (const [name, entry] of results) {
    console.log(`  ${name.padEnd(42)} compress ${entry.compress.map((us) => us.toFixed(1)).join(' / ')}   decompress ${entry.decompress.map((us) => us.toFixed(1)).join(' / ')}`);
  }
}
