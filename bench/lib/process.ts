// Runs a benchmark target in its own process (its own core), and reads its JSON hello line.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Target {
  url: string;
  /** Bench-only hook server of the app target (BENCH_HOOKS=1). */
  hooks?: string;
  /** The group holding every seeded user (BENCH_GROUP=1). */
  groupId?: string;
  users: { id: string; token: string }[];
  child: ChildProcess;
  stop(): Promise<void>;
  /** Resident memory of the target process in bytes (from /proc). */
  rss(): number;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function startTarget(script: 'relay' | 'app' | 'seed', env: Record<string, string | undefined>): Promise<Target> {
  return new Promise((resolve, reject) => {
    // BENCH_NODE_ARGS adds node flags to the target (e.g. --cpu-prof to profile it).
    const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...extra, '--import', 'tsx', '--expose-gc', path.join(root, 'bench/targets', `${script}.ts`)], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      const hello = JSON.parse(buf.slice(0, nl));
      resolve({
        ...hello,
        child,
        stop: () =>
          new Promise<void>((r) => {
            if (child.exitCode !== null || child.signalCode !== null) return r(); // exited, or killed by a signal
            child.once('exit', () => r());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
        rss: () => readRss(child.pid!),
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
}

import { readFileSync } from 'node:fs';
export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}
