// The contract (openapi.yaml) and its rendered page as the `openapi` function serves them: the document
// as JSON, and the API page, which is Swagger UI (swagger-ui-dist, its maintained prebuilt bundle) with
// a start-up script of ours. Used at bundle time by openapi/esbuild-plugins.cjs (everything is embedded
// in the function's bundle: the page needs no CDN and no internet, on AWS as locally) and, unbundled,
// by openapi/assets.ts and the tests.
'use strict';

const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');

const documentFile = path.join(__dirname, 'openapi.yaml');
const swaggerUi = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** The document as plain data (YAML anchors become copies, as in its JSON form). */
const loadDocument = () => JSON.parse(JSON.stringify(parse(readFileSync(documentFile, 'utf8'))));

/** The same icon as the console's, inline: no /favicon.ico request. */
const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%232563eb'/%3E%3Cpath d='M4 11h8M4 8h5M4 5h8' stroke='white' stroke-width='1.6'/%3E%3C/svg%3E";

// Swagger UI's options: the document from this origin (relative to /api-docs), and no validator badge,
// whose default fetches an image from validator.swagger.io on every load.
const INIT = `'use strict';
window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
});
`;

const STYLE = `body{margin:0}
.api-top{display:flex;gap:1rem;align-items:center;padding:.6rem 1.25rem;background:#1e293b;font:14px/1.4 system-ui,sans-serif}
.api-top a{color:#fff;text-decoration:none;font-weight:600}
.api-top a:hover{text-decoration:underline}
.api-top span{color:#cbd5e1}
`;

const page = ({ css, style, js, init }) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API · log-aggregator</title>
<link rel="icon" href="${ICON}">
<link rel="stylesheet" href="${css}">
<link rel="stylesheet" href="${style}">
</head>
<body>
<header class="api-top"><a href="./">log-aggregator console</a><span>HTTP API · <a href="openapi.json">openapi.json</a></span></header>
<div id="swagger-ui"></div>
<noscript><p>This page needs JavaScript. The contract itself is at <a href="openapi.json">/openapi.json</a>.</p></noscript>
<script src="${js}"></script>
<script src="${init}"></script>
</body>
</html>
`;

/**
 * The files, as the `openapi` function serves them: `path` is the URL path below the site root. The
 * page's scripts and styles are named by content hash (cached forever); the page and the document
 * are revalidated.
 */
const buildApiAssets = () => {
  const file = (name, contentType, body) => {
    const dot = name.lastIndexOf('.');
    const hashed = `api-docs/${name.slice(0, dot)}.${hash(body)}${name.slice(dot)}`;
    return { path: hashed, contentType, body, etag: `"${hash(body)}"`, immutable: true };
  };
  const js = file('swagger-ui-bundle.js', 'text/javascript; charset=utf-8', readFileSync(path.join(swaggerUi, 'swagger-ui-bundle.js'), 'utf8'));
  const css = file('swagger-ui.css', 'text/css; charset=utf-8', readFileSync(path.join(swaggerUi, 'swagger-ui.css'), 'utf8'));
  const init = file('init.js', 'text/javascript; charset=utf-8', INIT);
  const style = file('page.css', 'text/css; charset=utf-8', STYLE);
  const html = page({ css: css.path, style: style.path, js: js.path, init: init.path });
  const json = JSON.stringify(loadDocument());
  return {
    assets: [
      { path: 'openapi.json', contentType: 'application/json', body: json, etag: `"${hash(json)}"`, immutable: false },
      { path: 'api-docs', contentType: 'text/html; charset=utf-8', body: html, etag: `"${hash(html)}"`, immutable: false },
      js,
      css,
      init,
      style,
    ],
    inputs: [documentFile, path.join(swaggerUi, 'swagger-ui-bundle.js'), path.join(swaggerUi, 'swagger-ui.css')],
  };
};

module.exports = { buildApiAssets, loadDocument, documentFile };
