// The contract and its API page as files. Inside a function bundle this module is replaced at build
// time by openapi/esbuild-plugins.cjs with the files as constants; imported directly (tests, tsx) it
// builds them on first use with the same code (openapi/build.cjs).
import type { StaticAsset } from '../functions/http/static.ts';
import { buildApiAssets } from './build.cjs';

export const loadApiAssets = (): StaticAsset[] => buildApiAssets().assets;
