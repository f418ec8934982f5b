// rsyslog from Debian (packages rsyslog and rsyslog-elasticsearch), run as a private daemon: it takes
// syslog over TCP on a free port and ships it with omelasticsearch to a bulk endpoint, the way an
// operator would point it at Elasticsearch. `.ci/run` installs it; elsewhere the test that needs it
// is skipped with a warning unless REQUIRE_RSYSLOG=1.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes.ts';

const RSYSLOGD = '/usr/sbin/rsyslogd';
const MODULE = '/usr/lib/x86_64-linux-gnu/rsyslog/omelasticsearch.so';

export const rsyslogAvailable = (): boolean => existsSync(RSYSLOGD) && existsSync(MODULE);

export interface Rsyslog {
  /** Sends RFC 5424 lines over TCP (octet-stuffed: one message per line). */
  send(lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

export const startRsyslog = async (options: { bulkUrl: string; index: string; key: string }): Promise<Rsyslog> => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rsyslog-'));
  const tcpPort = await freePort();
  const target = new URL(options.bulkUrl);
  // One JSON document per message; the key goes as the Basic password, as omelasticsearch sends it.
  writeFileSync(
    path.join(dir, 'rsyslog.conf'),
    `global(workDirectory="${dir}" processInternalMessages="on")
module(load="imtcp")
module(load="omelasticsearch")
input(type="imtcp" port="${tcpPort}" address="127.0.0.1")
template(name="doc" type="list" option.jsonf="on") {
  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="severity" name="syslogseverity-text" format="jsonf")
  property(outname="program" name="programname" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
}
if $programname != "rsyslogd" then {
  action(type="omelasticsearch" server="${target.hostname}" serverport="${target.port}" searchIndex="${options.index}"
         template="doc" bulkmode="on" esVersion.major="8" uid="rsyslog" pwd="${options.key}"
         action.resumeRetryCount="-1" action.resumeInterval="1" queue.type="linkedList" queue.dequeueBatchSize="100")
}
`,
  );
  const daemon: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  daemon.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  daemon.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Up when its TCP input accepts connections.
  for (let tries = 0; ; tries += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const probe = net.connect(tcpPort, '127.0.0.1', () => {
        probe.end();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (open) break;
    if (daemon.exitCode !== null || tries > 100) throw new Error(`rsyslogd did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    send: (lines) =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect(tcpPort, '127.0.0.1', () => socket.end(lines.map((line) => `${line}\n`).join('')));
        socket.on('close', () => resolve());
        socket.on('error', reject);
      }),
    stop: async () => {
      if (daemon.exitCode !== null) return;
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    },
  };
};
