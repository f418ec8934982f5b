// CPU and process trees from /proc (Linux), for the benchmarks: a stack is a process and its children.
import { readdirSync, readFileSync } from 'node:fs';

/** The pids of a process and all its descendants, from /proc. */
export const processTree = (rootPid: number): number[] => {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const tree: number[] = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
};

/** CPU seconds (utime + stime, all threads) a process has used so far. */
export const processCpuSeconds = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of /proc/<pid>/stat), in clock ticks of 1/100 s
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
};

/** CPU seconds the whole tree of a process has used so far. */
export const treeCpuSeconds = (rootPid: number): number => processTree(rootPid).reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
