// CPU time of processes from /proc (Linux): user + system clock ticks (utime + stime of
// /proc/<pid>/stat), summed over a set of processes that may change while it is measured.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux almost everywhere). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  comm: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** Start time in clock ticks since boot: with the pid, it names one process (pids are reused). */
  start: number;
}

function readStat(pid: number): Stat | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
  const close = s.lastIndexOf(')');
  const f = s.slice(close + 2).split(' ');
  // After the comm, field 3 (state) is f[0]: utime is field 14, stime 15, starttime 22.
  return { comm: s.slice(s.indexOf('(') + 1, close), ticks: Number(f[11]) + Number(f[12]), start: Number(f[19]) };
}

/** The process's own command name (/proc/<pid>/comm), or null if it is gone. */
export function commOf(pid: number): string | null {
  return readStat(pid)?.comm ?? null;
}

/** The process and its descendants (children of every thread, recursively). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.split(' ').filter(Boolean)) walk(Number(c));
    }
  };
  walk(pid);
  return out;
}

/** Every process whose command name is `comm` (e.g. 'postgres', 'redis-server'). */
export function pidsByComm(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    if (readStat(Number(d))?.comm === comm) out.push(Number(d));
  }
  return out;
}

function nowTicks(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * CLK_TCK;
}

/**
 * Measures the CPU ticks a changing set of processes spends from now until `stop()`. `pids()` is
 * asked at the start, every `everyMs` and at the stop. A process seen at the start counts from its
 * ticks then; one started later counts from 0 (all its ticks fall in the window); one that
 * exits counts up to its last sighting (at most `everyMs` of it is lost).
 */
export function cpuMeter(pids: () => number[] | Promise<number[]>, everyMs = 250): { stop(): Promise<{ ticks: number; processes: number }> } {
  const t0 = nowTicks();
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  let busy: Promise<void> = Promise.resolve();
  const sample = async () => {
    for (const pid of await pids()) {
      const s = readStat(pid);
      if (!s) continue;
      const key = `${pid}:${s.start}`;
      if (!first.has(key)) first.set(key, s.start < t0 ? s.ticks : 0);
      last.set(key, s.ticks);
    }
  };
  busy = sample();
  const timer = setInterval(() => {
    busy = busy.then(sample).catch(() => {});
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      await sample();
      let ticks = 0;
      for (const [key, t] of last) ticks += t - first.get(key)!;
      return { ticks, processes: last.size };
    },
  };
}
