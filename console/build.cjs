// Builds the web console (console/src) with esbuild, the toolchain that bundles the functions, into a
// handful of in-memory files: index.html plus content-hashed JS and CSS. Used at bundle time by
// console/esbuild-plugins.cjs (the assets are embedded in the `console` function's bundle, so the
// console is served by the stack itself, on AWS too, with no CDN) and, unbundled, by console/assets.ts.
'use strict';

const { createHash } = require('node:crypto');
const path = require('node:path');
const esbuild = require('esbuild');

const root = __dirname;
const entry = path.join(root, 'src', 'main.tsx');

/** Browsers that have everything the console uses (ES2022, CSS nesting is not used). */
const TARGETS = ['chrome110', 'firefox115', 'safari16'];

const options = {
  entryPoints: [entry],
  absWorkingDir: root,
  bundle: true,
  minify: true,
  format: 'esm',
  target: TARGETS,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Libraries' license comments are kept, at the end of each file.
  legalComments: 'eof',
  write: false,
  outdir: path.join(root, 'out'),
  entryNames: 'app',
  metafile: true,
  logLevel: 'silent',
};

const hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 12);
const escapeHtml = (text) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** A one-color square as the icon, inline: no /favicon.ico request (and no 404 in the console). */
const ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%232563eb'/%3E%3Cpath d='M4 11h8M4 8h5M4 5h8' stroke='white' stroke-width='1.6'/%3E%3C/svg%3E";

const html = ({ js, css }) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>log-aggregator console</title>
<link rel="icon" href="${ICON}">
<link rel="stylesheet" href="${escapeHtml(css)}">
<script type="module" src="${escapeHtml(js)}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the console…</p></div>
<noscript><p class="boot">The console needs JavaScript. The JSON API answers at <a href="stats">/stats</a>, <a href="events">/events</a>, <a href="topics">/topics</a>.</p></noscript>
</body>
</html>
`;

/**
 * The files, as the `console` function serves them: `path` is the URL path below the site root.
 * JS and CSS are named by content hash (cached forever); index.html names them (always revalidated).
 */
const toAssets = (result) => {
  const byExt = (ext) => {
    const file = result.outputFiles.find((output) => output.path.endsWith(ext));
    if (!file) throw new Error(`the console build produced no ${ext} file`);
    return file.text;
  };
  const js = byExt('.js');
  const css = byExt('.css');
  const jsPath = `console/app.${hash(js)}.js`;
  const cssPath = `console/app.${hash(css)}.css`;
  const page = html({ js: jsPath, css: cssPath });
  return {
    assets: [
      { path: '', contentType: 'text/html; charset=utf-8', body: page, etag: `"${hash(page)}"`, immutable: false },
      { path: jsPath, contentType: 'text/javascript; charset=utf-8', body: js, etag: `"${hash(js)}"`, immutable: true },
      { path: cssPath, contentType: 'text/css; charset=utf-8', body: css, etag: `"${hash(css)}"`, immutable: true },
    ],
    inputs: Object.keys(result.metafile.inputs).map((input) => path.resolve(root, input)),
  };
};

const failed = (error) => {
  const messages = (error.errors ?? []).map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
  return new Error(`building the console failed:\n  ${messages.join('\n  ') || error.message}`, { cause: error });
};

/** Async build (the esbuild plugin). */
const buildConsole = async () => {
  try {
    return toAssets(await esbuild.build(options));
  } catch (error) {
    throw failed(error);
  }
};

/** Synchronous build (console/assets.ts outside a bundle: tests, tsx). */
const buildConsoleSync = () => {
  try {
    return toAssets(esbuild.buildSync(options));
  } catch (error) {
    throw failed(error);
  }
};

module.exports = { buildConsole, buildConsoleSync, TARGETS };
