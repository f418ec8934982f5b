// Files embedded in a function's bundle (the console's, the API page's), served as a CDN would: a
// strong ETag and 304, cached forever when named by content hash and revalidated otherwise, gzipped
// for clients that accept it (API Gateway passes the bytes through base64-encoded).
import { gzipSync } from 'node:zlib';
import { header, json, type HttpEvent, type HttpResult } from './api.ts';

/**
 * What every embedded page is served with (the console's, the API page's): everything comes from this
 * origin, scripts and styles only from files (no inline code; Swagger UI sets styles from script,
 * which style-src does not govern), and calls ("Try it out", the console's fetches) go to this origin.
 */
export const PAGE_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
} as const;

export interface StaticAsset {
  /** URL path below the site root: '' is the console's index.html. */
  path: string;
  contentType: string;
  body: string;
  /** Strong ETag of the body. */
  etag: string;
  /** Named by its content hash: cacheable forever. */
  immutable: boolean;
}

/**
 * A server for one set of files. Each file is gzipped on its first gzipped answer, not all at load:
 * the API page's script alone is 1.7 MB, and a cold start should not compress what is never asked for.
 */
export const staticFiles = (load: () => StaticAsset[], securityHeaders: Record<string, string>) => {
  let files: Map<string, StaticAsset> | undefined;
  const gzipped = new Map<string, string>();
  return (event: HttpEvent, path: string, vary = 'accept-encoding'): HttpResult => {
    files ??= new Map(load().map((asset) => [asset.path, asset]));
    const asset = files.get(path);
    if (!asset) return json(404, { error: 'not_found', message: `no file ${event.rawPath}` });
    const headers: Record<string, string> = {
      ...securityHeaders,
      'content-type': asset.contentType,
      etag: asset.etag,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary,
    };
    const ifNoneMatch = header(event, 'if-none-match');
    if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === asset.etag)) {
      return { statusCode: 304, headers, body: '' };
    }
    if (/\bgzip\b/.test(header(event, 'accept-encoding') ?? '')) {
      let body = gzipped.get(asset.path);
      if (body === undefined) gzipped.set(asset.path, (body = gzipSync(asset.body, { level: 9 }).toString('base64')));
      return { statusCode: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body, isBase64Encoded: true };
    }
    return { statusCode: 200, headers, body: asset.body };
  };
};
