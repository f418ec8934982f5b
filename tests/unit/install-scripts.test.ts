// Every dependency that has an install script is reviewed in package.json `allowScripts`: npm 11 warns
// at every `npm install` about those that are not (and refuses them with strict-allow-scripts), so a new
// one must be looked at and allowed or denied (docs/install.md says how and why each is there).
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean }>;
};

it('reviews the install script of every dependency in allowScripts, and names nothing else', () => {
  const withScripts = Object.entries(lock.packages)
    .filter(([location, entry]) => location !== '' && entry.hasInstallScript)
    .map(([location]) => location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length));
  expect(withScripts.length).toBeGreaterThan(0);
  expect(Object.keys(pkg.allowScripts ?? {}).sort()).toEqual([...new Set(withScripts)].sort());
  // The Node 22 that the npm scripts run on is installed by its package's preinstall script.
  expect(pkg.allowScripts?.node).toBe(true);
});
