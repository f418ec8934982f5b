import { loadApiAssets } from '../openapi/assets.ts';
import { httpHandler } from '#http/api';
import { staticFiles } from '#http/static';

// GET /openapi.json, GET /api-docs and GET /api-docs/{file}: the API's contract (openapi/openapi.yaml)
// as JSON, and the page that renders it (Swagger UI, from swagger-ui-dist), all embedded in this
// function's bundle at build time (openapi/esbuild-plugins.cjs): no CDN, no internet, no AWS calls.

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // As the console's: scripts only from this origin's files. Swagger UI sets styles from script
  // (element.style), which style-src does not govern, and "Try it out" calls this origin.
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

const serve = staticFiles(loadApiAssets, SECURITY_HEADERS);

export const handler = httpHandler(async (event) => {
  const file = event.pathParameters?.file;
  if (file !== undefined) return serve(event, `api-docs/${file}`);
  return serve(event, event.rawPath.endsWith('/openapi.json') ? 'openapi.json' : 'api-docs');
});
