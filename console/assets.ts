// The console's files (index.html, hashed JS and CSS). Inside a function bundle this module is
// replaced at build time by console/esbuild-plugins.cjs with the built files as constants; imported
// directly (tests, tsx) it builds them on first use with the same code (console/build.cjs).
import { buildConsoleSync } from './build.cjs';

export interface ConsoleAsset {
  /** URL path below the site root: '' is index.html. */
  path: string;
  contentType: string;
  body: string;
  /** Strong ETag of the body. */
  etag: string;
  /** Named by its content hash: cacheable forever. */
  immutable: boolean;
}

export const loadConsoleAssets = (): ConsoleAsset[] => buildConsoleSync().assets;
