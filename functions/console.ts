import { loadConsoleAssets } from '../console/assets.ts';
import { ELASTIC_PRODUCT_HEADER, elasticInfo } from '#lib/ingest/elastic';
import { header, httpHandler, json, type HttpEvent, type HttpResult } from '#http/api';
import { PAGE_SECURITY_HEADERS, staticFiles } from '#http/static';

// GET / and GET /console/{file}: the web console, a static single-page app whose files are embedded in
// this function's bundle at build time (console/esbuild-plugins.cjs). It reads the same JSON API as
// everyone else, from the browser; this function calls no AWS service.
//
// GET / is also the handshake of Elasticsearch clients and agents, which read the version document
// there before they send to /_bulk: by content negotiation, a client that accepts HTML (a browser)
// gets the console, any other the version document with the product header they check.

const serve = staticFiles(loadConsoleAssets, PAGE_SECURITY_HEADERS);

export const serveAsset = (event: HttpEvent): HttpResult => {
  const file = event.pathParameters?.file;
  // The index depends on Accept too (the Elasticsearch handshake, below).
  return file === undefined ? serve(event, '', 'accept, accept-encoding') : serve(event, `console/${file}`);
};

const wantsHtml = (event: HttpEvent): boolean => /\btext\/html\b/.test(header(event, 'accept') ?? '');

export const handler = httpHandler(async (event) => {
  if (event.pathParameters?.file === undefined && !wantsHtml(event)) {
    return json(200, elasticInfo('log-aggregator'), { ...ELASTIC_PRODUCT_HEADER, vary: 'accept' });
  }
  return serveAsset(event);
});
