import { readdirSync, readFileSync } from 'node:fs';

/** The process ids below `root` (children, grandchildren, ...), from /proc. */
export function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  const result: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop() as number;
    for (const [pid, ppid] of parentOf) if (ppid === parent) { result.push(pid); frontier.push(pid); }
  }
  return result;
}

/** A process's peak resident set size (VmHWM) in bytes, or 0 if it is gone. */
export function peakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak RSS of each process below this one (and of this one, if `includeSelf`), keyed by a readable name. */
export function peakRssOfTree(includeSelf: boolean): Record<string, number> {
  const pids = [...(includeSelf ? [process.pid] : []), ...descendants(process.pid)];
  const result: Record<string, number> = {};
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    const service = /apps\/([^/]+)\/main\.js$/.exec(argv[1] ?? '')?.[1];
    let name = pid === process.pid ? 'harness+workers' : service ?? (argv[0] ?? 'process').split('/').pop() ?? 'process';
    if (name in result) name = `${name}#${pid}`;
    const rss = peakRss(pid);
    if (rss > 0) result[name] = rss;
  }
  return result;
}
