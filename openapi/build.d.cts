import type { StaticAsset } from '../functions/http/static.ts';

export interface ApiBuild {
  assets: StaticAsset[];
  /** Absolute paths of the files the assets are made of. */
  inputs: string[];
}

export declare const buildApiAssets: () => ApiBuild;
/** openapi.yaml as plain data (what GET /openapi.json answers). */
export declare const loadDocument: () => Record<string, any>;
export declare const documentFile: string;
