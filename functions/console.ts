import { gzipSync } from 'node:zlib';
import { loadConsoleAssets, type ConsoleAsset } from '../console/assets.ts';
import { ELASTIC_PRODUCT_HEADER, elasticInfo } from '#lib/ingest/elastic';
import { header, httpHandler, json, type HttpEvent, type HttpResult } from '#http/api';

// GET / and GET /console/{file}: the web console, a static single-page app whose files are embedded in
// this function's bundle at build time (console/esbuild-plugins.cjs). It reads the same JSON API as
// everyone else, from the browser; this function calls no AWS service.
//
// GET / is also the handshake of Elasticsearch clients and agents, which read the version document
// there before they send to /_bulk: by content negotiation, a client that accepts HTML (a browser)
// gets the console, any other the version document with the product header they check.

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Everything comes from this origin; scripts and styles only from files (no inline code).
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

interface Served extends ConsoleAsset {
  gzipped: string;
}

let served: Map<string, Served> | undefined;
const files = (): Map<string, Served> => {
  served ??= new Map(
    loadConsoleAssets().map((asset) => [asset.path, { ...asset, gzipped: gzipSync(asset.body, { level: 9 }).toString('base64') }]),
  );
  return served;
};

const acceptsGzip = (event: HttpEvent): boolean => /\bgzip\b/.test(event.headers?.['accept-encoding'] ?? '');

export const serveAsset = (event: HttpEvent): HttpResult => {
  const file = event.pathParameters?.file;
  const asset = files().get(file === undefined ? '' : `console/${file}`);
  if (!asset) return json(404, { error: 'not_found', message: `no console file ${event.rawPath}` });
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': asset.contentType,
    etag: asset.etag,
    'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    // The index depends on Accept too (the Elasticsearch handshake, below).
    vary: file === undefined ? 'accept, accept-encoding' : 'accept-encoding',
  };
  const ifNoneMatch = event.headers?.['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === asset.etag)) {
    return { statusCode: 304, headers, body: '' };
  }
  if (acceptsGzip(event)) {
    return { statusCode: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: asset.gzipped, isBase64Encoded: true };
  }
  return { statusCode: 200, headers, body: asset.body };
};

const wantsHtml = (event: HttpEvent): boolean => /\btext\/html\b/.test(header(event, 'accept') ?? '');

export const handler = httpHandler(async (event) => {
  if (event.pathParameters?.file === undefined && !wantsHtml(event)) {
    return json(200, elasticInfo('log-aggregator'), { ...ELASTIC_PRODUCT_HEADER, vary: 'accept' });
  }
  return serveAsset(event);
});
