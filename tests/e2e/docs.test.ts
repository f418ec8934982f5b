// The documentation's examples run as written: every ```console block of the README (the tour) and
// of docs/api.md (finding events) and of docs/ingestion.md (curl) is run against a fresh stack, command by command, and what each
// command prints is compared with the lines the block shows under it (`…` stands for what differs
// from run to run: receipts, times, uptime). A `$ ` line is a command, `> ` lines continue it.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, projectRoot, spawnScript, stopProcess, waitForLine } from '../support/processes.ts';

jest.setTimeout(300_000);

interface Step {
  command: string;
  expected: string[];
}

/** The console blocks of a Markdown file, as steps. */
export const consoleSteps = (file: string): Step[] => {
  const text = readFileSync(path.join(projectRoot, file), 'utf8');
  const steps: Step[] = [];
  for (const [, block] of text.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const line of block!.split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
      else if (line.startsWith('> ') && steps.length > 0) steps.at(-1)!.command += `\n${line.slice(2)}`;
      else if (line !== '' && steps.length > 0) steps.at(-1)!.expected.push(line);
    }
  }
  return steps;
};

const pattern = (line: string): RegExp => new RegExp(`^${line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** Runs the steps in one shell session against a stack on `port`, checking each step's output. */
const run = (steps: Step[], port: number, dataDir: string): void => {
  // One bash per step, with the variables the steps set carried over in a file (the tour keeps a receipt).
  const stateFile = path.join(dataDir, 'docs-test.env');
  execFileSync('bash', ['-c', `: > ${stateFile}`]);
  for (const step of steps) {
    // `set -a`: what a step assigns (the tour's receipt) is exported, so the next step sees it.
    const script = `set -o pipefail; set -a; . ${stateFile}\n${step.command.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`)}\nexport -p | grep -v ' PWD=\\| OLDPWD=\\| SHLVL=\\| _=' > ${stateFile}`;
    let output: string;
    try {
      output = execFileSync('bash', ['-c', script], {
        cwd: projectRoot,
        encoding: 'utf8',
        env: { ...process.env, HTTP_PORT: String(port), DATA_DIR: dataDir, NO_COLOR: '1', LOGAGG_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      throw new Error(`the documented command failed:\n$ ${step.command}\n${(error as { stderr?: string }).stderr ?? error}`);
    }
    const lines = output.split('\n').map((line) => line.trimEnd()).filter((line) => line !== '');
    const expected = step.expected.map((line) => line.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`));
    expect({ command: step.command, lines: lines.length }).toEqual({ command: step.command, lines: expected.length });
    expected.forEach((line, index) => expect({ command: step.command, line: lines[index] }).toEqual({ command: step.command, line: expect.stringMatching(pattern(line)) }));
  }
};

const withStack = async (stage: string, use: (port: number, dataDir: string) => Promise<void> | void): Promise<void> => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `log-aggregator-docs-${stage}-`));
  const [cloudPort, httpPort, lambdaPort] = [await freePort(), await freePort(), await freePort()];
  let stack: ChildProcess | undefined;
  try {
    stack = spawnScript('scripts/start.ts', [], { DATA_DIR: dataDir, CLOUD_PORT: String(cloudPort), HTTP_PORT: String(httpPort), LAMBDA_PORT: String(lambdaPort), STAGE: stage, LOG_LEVEL: 'WARN' });
    await waitForLine(stack, /^ready in/, 180_000);
    await use(httpPort, dataDir);
  } finally {
    if (stack) await stopProcess(stack, 'SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  }
};

it("the README's tour runs as written on a fresh stack and prints what it shows", async () => {
  const steps = consoleSteps('README.md');
  expect(steps.length).toBeGreaterThanOrEqual(6);
  await withStack('docs-tour', (port, dataDir) => run(steps, port, dataDir));
});

it("docs/ingestion.md's curl examples run as written on a fresh stack and print what they show", async () => {
  const steps = consoleSteps('docs/ingestion.md');
  expect(steps.length).toBe(3);
  await withStack('docs-ingest', (port, dataDir) => run(steps, port, dataDir));
});

it("docs/api.md's finding events runs as written on a fresh stack and prints what it shows", async () => {
  const steps = consoleSteps('docs/api.md');
  expect(steps.length).toBeGreaterThanOrEqual(6);
  await withStack('docs-api', (port, dataDir) => run(steps, port, dataDir));
});
