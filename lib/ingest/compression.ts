// Compressed bodies, inflated with a bound: a 64 KB gzip can inflate to gigabytes, so the bound is
// enforced while inflating (zlib stops at `maxOutputLength`; a snappy block declares its length up
// front and is refused before anything is allocated), never by measuring the result afterwards.
import { gunzipSync, inflateSync } from 'node:zlib';
import { uncompress as snappyUncompress } from 'snappyjs';
import { MalformedInputError, TooLargeError, UnsupportedMediaError } from '../core/errors.ts';

/** Content-Encoding values the ingest routes take (`x-gzip` is gzip's old name). */
export const CONTENT_ENCODINGS = ['gzip', 'x-gzip', 'deflate', 'identity'] as const;

const tooLarge = (maxBytes: number, what: string): TooLargeError =>
  new TooLargeError(`the ${what} body inflates beyond ${maxBytes} bytes, the most accepted; send smaller batches`);

const isBufferTooLarge = (error: unknown): boolean => (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';

/**
 * Undoes a Content-Encoding (a single coding, as every shipper sends), refusing to produce more than
 * `maxBytes`. Unknown codings are refused with the list of those taken.
 */
export const decodeContentEncoding = (body: Buffer, contentEncoding: string | undefined, maxBytes: number): Buffer => {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== 'deflate') {
    throw new UnsupportedMediaError(`Content-Encoding ${coding} is not supported; send gzip, deflate or an uncompressed body`);
  }
  try {
    return coding === 'deflate' ? inflateSync(body, { maxOutputLength: maxBytes }) : gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if (isBufferTooLarge(error)) throw tooLarge(maxBytes, coding);
    throw new MalformedInputError(`the body is not valid ${coding} data: ${(error as Error).message}`, { cause: error });
  }
};

/** Reads the uncompressed length a snappy block declares (a little-endian base-128 varint). */
const declaredLength = (block: Buffer): number | undefined => {
  let length = 0;
  for (let index = 0, shift = 0; index < Math.min(block.length, 5); index += 1, shift += 7) {
    const byte = block[index]!;
    length += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return length;
  }
  return undefined;
};

/** A snappy block (what Loki clients send as `application/x-protobuf`), at most `maxBytes` once inflated. */
export const unsnappy = (block: Buffer, maxBytes: number): Buffer => {
  const length = declaredLength(block);
  if (length === undefined) throw new MalformedInputError('the body is not snappy-compressed data (a block starts with its length)');
  if (length > maxBytes) throw tooLarge(maxBytes, 'snappy');
  try {
    return Buffer.from(snappyUncompress(new Uint8Array(block.buffer, block.byteOffset, block.byteLength), maxBytes));
  } catch (error) {
    throw new MalformedInputError(`the body is not valid snappy data: ${(error as Error).message}`, { cause: error });
  }
};
