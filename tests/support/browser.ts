// Debian's chromium for the browser tests, driven by playwright-core: where it is, whether its tests
// run (skipped with a warning where it is missing; CI sets REQUIRE_CHROMIUM=1, so there they run or
// fail), and how it is launched.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** `describe` where the browser tests of `what` run, `describe.skip` (with a warning) where they cannot. */
export const browserSuite = (what: string): jest.Describe => {
  const required = Boolean(process.env.REQUIRE_CHROMIUM);
  if (!haveChromium && !required) console.warn(`chromium is not installed at ${CHROMIUM} (apt-get install chromium): the browser tests of ${what} are skipped`);
  return haveChromium || required ? describe : describe.skip;
};

/** Fails a suite that runs (REQUIRE_CHROMIUM) where chromium is missing, saying how to install it. */
export const requireChromium = (): void => {
  if (!haveChromium) throw new Error(`chromium is required here (REQUIRE_CHROMIUM is set) but ${CHROMIUM} does not exist: apt-get install chromium`);
};

/** Chromium headless, in the flags this machine needs, without the background traffic of a desktop browser. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
