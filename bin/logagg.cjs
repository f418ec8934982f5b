#!/usr/bin/env node
// `npx logagg`: runs the TypeScript command line (client/cli/main.ts) through tsx, so there is no build
// step. Works on Node 20 and newer.
'use strict';
require('tsx/cjs/api').register();
const { runCli } = require('../client/cli/main.ts');

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
