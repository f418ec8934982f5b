// The console's files (index.html, hashed JS and CSS). Inside a function bundle this module is
// replaced at build time by console/esbuild-plugins.cjs with the built files as constants; imported
// directly (tests, tsx) it builds them on first use with the same code (console/build.cjs).
import type { StaticAsset } from '../functions/http/static.ts';
import { buildConsoleSync } from './build.cjs';

/** One file: the same shape as every file a function serves (functions/http/static.ts). */
export type ConsoleAsset = StaticAsset;

export const loadConsoleAssets = (): ConsoleAsset[] => buildConsoleSync().assets;
