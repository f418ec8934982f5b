import type { ConsoleAsset } from './assets.ts';

export interface ConsoleBuild {
  assets: ConsoleAsset[];
  /** Absolute paths of every source file that went into the build. */
  inputs: string[];
}

export declare const buildConsole: () => Promise<ConsoleBuild>;
export declare const buildConsoleSync: () => ConsoleBuild;
export declare const TARGETS: string[];
