import { loadApiAssets } from '../openapi/assets.ts';
import { httpHandler } from '#http/api';
import { PAGE_SECURITY_HEADERS, staticFiles } from '#http/static';

// GET /openapi.json, GET /api-docs and GET /api-docs/{file}: the API's contract (openapi/openapi.yaml)
// as JSON, and the page that renders it (Swagger UI, from swagger-ui-dist), all embedded in this
// function's bundle at build time (openapi/esbuild-plugins.cjs): no CDN, no internet, no AWS calls.

const serve = staticFiles(loadApiAssets, PAGE_SECURITY_HEADERS);

export const handler = httpHandler(async (event) => {
  const file = event.pathParameters?.file;
  if (file !== undefined) return serve(event, `api-docs/${file}`);
  return serve(event, event.rawPath.endsWith('/openapi.json') ? 'openapi.json' : 'api-docs');
});
