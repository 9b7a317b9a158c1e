// `npm run bench [-- chat memory queries notify frontend login-flood flood groups uploads content-filter search lifecycle faults presence-scale]`: runs the benchmarks, writes JSON to
// bench/results/<name>.json and prints a summary. Figures and the machine go in bench/README.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');
mkdirSync(resultsDir, { recursive: true });

const all = ['chat', 'queries', 'notify', 'memory', 'frontend', 'login-flood', 'flood', 'groups', 'uploads', 'content-filter', 'search', 'lifecycle', 'faults', 'presence-scale'] as const;
const picked = process.argv.slice(2).filter((a) => (all as readonly string[]).includes(a));
// presence-scale (50,000 sockets, several processes) runs only when asked for by name.
const which = picked.length ? picked : all.filter((n) => n !== 'presence-scale');
const machine = {
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  os: `${os.type()} ${os.release()}`,
  date: new Date().toISOString(),
  /** 1/5/15-minute load averages when the run started. */
  loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
};
const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
log(`machine: ${JSON.stringify(machine)}`);

for (const name of which) {
  log(`== ${name} ==`);
  const mod = await import(`./${name}.ts`);
  const fn = mod[`bench${name.replace(/(^|-)(\w)/g, (_m: string, _d: string, c: string) => c.toUpperCase())}`] as (log: (s: string) => void) => Promise<unknown>;
  const result = await fn(log);
  // A partial chat run (BENCH_TARGETS) does not overwrite the full one; a groups run of one part
  // (BENCH_GROUP_PARTS) writes groups-<part>.json.
  const file =
    name === 'chat' && process.env.BENCH_TARGETS
      ? 'chat-partial.json'
      : name === 'groups' && process.env.BENCH_GROUP_PARTS
        ? `groups-${process.env.BENCH_GROUP_PARTS.replaceAll(',', '-')}.json`
        : `${name}.json`;
  writeFileSync(path.join(resultsDir, file), JSON.stringify({ machine, result }, null, 2));
  log(`wrote bench/results/${file}`);
}
process.exit(0);
