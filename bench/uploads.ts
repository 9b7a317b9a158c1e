// Uploads (issue 13): (1) upload and thumbnail of a 4 MB JPEG, one at a time: the time from the
// first byte sent to the 201 (received, sniffed, re-encoded without metadata, thumbnailed,
// stored); (2) chat latency with 1,000 clients at 1,000 msgs/s, alone and while 50 uploads of a
// 1 MB JPEG run back to back the whole time (50 in flight at once). Target: chat p99 < 50 ms
// (uploads must not block the event loop). The app runs in its own process (bench/targets/app.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { connectClients, disconnectAll, percentile, runPhase, type PhaseResult } from './lib/load.ts';
import { startTarget } from './lib/process.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const RATE = 1000;
const UPLOADERS = 50;
const SINGLE_RUNS = 20;

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** A photo-like JPEG (gradients and grain, which compress like a camera's) of about `bytes`. */
async function photo(width: number, height: number, bytes: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let x = 0x9e3779b9;
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const n = ((x & 0xff) - 128) / 4;
      const o = (y * width + i) * 3;
      raw[o] = clamp((i * 255) / width + n);
      raw[o + 1] = clamp((y * 255) / height + n);
      raw[o + 2] = clamp(128 + 100 * Math.sin(i / 50) + n);
    }
  }
  let best: Buffer | null = null;
  for (let q = 97; q >= 50; q -= 3) {
    best = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: q }).toBuffer();
    if (best.length <= bytes) break;
  }
  return best!;
}

const round = (n: number) => Math.round(n * 10) / 10;
const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: round(percentile(s, 50)), p90: round(percentile(s, 90)), p99: round(percentile(s, 99)), max: round(s.at(-1) ?? NaN) };
};

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** GC pauses in the app process during the phase. */
  gc?: { count: number; totalMs: number; maxMs: number };
}

export interface UploadBenchResult {
  target: string;
  jpeg4mb: { bytes: number; width: number; height: number; uploadMs: ReturnType<typeof stats>; thumbnailGetMs: ReturnType<typeof stats> };
  chatAlone: PhaseResult;
  chatWithUploads: PhaseResult;
  uploadsDuringChat: { bytes: number; completed: number; failed: Record<string, number>; perSecond: number; latencyMs: ReturnType<typeof stats> };
  /** The app process's own event-loop delay during each phase (perf_hooks, 5 ms resolution). */
  appEventLoopDelayMs: Record<'alone' | 'withUploads', LoopDelay>;
  /** The same for this process, the load generator (its delays count in the chat latency too). */
  loadGeneratorEventLoopDelayMs: Record<'alone' | 'withUploads', { p50: number; p99: number; max: number; mean: number }>;
  loadAverage: { before: number[]; after: number[] };
}

const benchLoop = monitorEventLoopDelay({ resolution: 5 });
const ownLoop = () => {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return { p50: ms(benchLoop.percentile(50)), p99: ms(benchLoop.percentile(99)), max: ms(benchLoop.max), mean: ms(benchLoop.mean) };
};

export async function benchUploads(log: (s: string) => void): Promise<UploadBenchResult[]> {
  benchLoop.enable();
  log('making the fixtures: a 4 MB and a 1 MB photo-like JPEG');
  const big = await photo(4000, 3000, 4 * 1024 * 1024);
  const small = await photo(1700, 1275, 1024 * 1024);
  log(`fixtures: ${(big.length / 1e6).toFixed(2)} MB 4000×3000, ${(small.length / 1e6).toFixed(2)} MB 1700×1275`);

  const targets: [string, string | undefined, (() => Promise<void>) | null][] = [['app, PGlite', undefined, null]];
  if (await pgAvailable()) {
    const db = await createBenchDatabase();
    targets.push(['app, PostgreSQL', db.url, db.drop]);
  } else log('PostgreSQL not reachable: PostgreSQL run skipped');
  const only = process.env.BENCH_TARGETS;

  const results: UploadBenchResult[] = [];
  for (const [name, databaseUrl, drop] of targets) {
    if (only && !only.split('|').some((s) => name.includes(s.trim()))) {
      await drop?.();
      continue;
    }
    // BENCH_UPLOAD_DIR: where the uploads go (default the system's temporary directory).
    const dir = mkdtempSync(path.join(process.env.BENCH_UPLOAD_DIR ?? os.tmpdir(), 'fc-bench-uploads-'));
    const t = await startTarget('app', {
      BENCH_USERS: String(CLIENTS),
      CHAT_RATE_LIMIT: '100000',
      DATABASE_URL: databaseUrl,
      REDIS_URL: undefined,
      UPLOAD_DIR: dir,
      BENCH_HOOKS: '1',
    });
    const loopDelay = async () => (await (await fetch(`${t.hooks}/loop-delay`)).json()) as LoopDelay;
    try {
      const loadBefore = os.loadavg();
      // 1. One 4 MB JPEG at a time (two warm-up runs first).
      const uploadMs: number[] = [];
      const thumbMs: number[] = [];
      for (let i = 0; i < SINGLE_RUNS + 2; i++) {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(big)], { type: 'image/jpeg' }), 'photo.jpg');
        const t0 = performance.now();
        const res = await fetch(`${t.url}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${t.users[0]!.token}` }, body: form });
        const body = (await res.json()) as { attachment: { thumbnailUrl: string } };
        const t1 = performance.now();
        if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(body)}`);
        const thumb = await fetch(new URL(body.attachment.thumbnailUrl, t.url));
        await thumb.arrayBuffer();
        const t2 = performance.now();
        if (i >= 2) {
          uploadMs.push(t1 - t0);
          thumbMs.push(t2 - t1);
        }
      }
      const jpeg4mb = { bytes: big.length, width: 4000, height: 3000, uploadMs: stats(uploadMs), thumbnailGetMs: stats(thumbMs) };
      log(`${name}: 4 MB JPEG upload+thumbnail p50 ${jpeg4mb.uploadMs.p50} ms, p90 ${jpeg4mb.uploadMs.p90} ms (n=${SINGLE_RUNS}); thumbnail GET p50 ${jpeg4mb.thumbnailGetMs.p50} ms`);

      // 2. Chat alone, then chat while 50 uploaders send 1 MB JPEGs back to back.
      const clients = await connectClients([t.url], t.users.slice(0, CLIENTS));
      try {
        // Every client's first message unlocks the demo's FIRST_MESSAGE achievement (a host
        // transaction awaited before the ack): two rounds of warm-up get that out of the way.
        await runPhase(clients, 500, 2, 5000, 'warm1');
        await runPhase(clients, 500, 2, 2000, 'warm2');
        await new Promise((r) => setTimeout(r, 2000));
        await loopDelay();
        benchLoop.reset();
        const chatAlone = await runPhase(clients, RATE, SECONDS, 3000, 'alone');
        const loopAlone = await loopDelay();
        const benchAlone = ownLoop();
        log(
          `${name}: chat alone at ${RATE}/s: ${chatAlone.delivered}/${chatAlone.sent} delivered, p50 ${chatAlone.p50} ms, p99 ${chatAlone.p99} ms; ` +
            `app event-loop delay p99 ${loopAlone.p99} ms, max ${loopAlone.max} ms, GC ${JSON.stringify(loopAlone.gc)}`,
        );

        // The 50 uploaders run in a process of their own (bench/lib/uploader.ts).
        const file = path.join(dir, 'upload-1mb.jpg');
        writeFileSync(file, small);
        const uploaders = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'lib/uploader.ts')], {
          env: {
            ...process.env,
            BENCH_UPLOAD_URL: t.url,
            BENCH_UPLOAD_TOKENS: JSON.stringify(t.users.slice(0, UPLOADERS).map((u) => u.token)),
            BENCH_UPLOAD_FILE: file,
            BENCH_UPLOADERS: String(UPLOADERS),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        uploaders.stdout.on('data', (d: Buffer) => (out += d.toString()));
        await new Promise<void>((resolve) => {
          const ready = () => (out.includes('ready\n') ? resolve() : uploaders.stdout.once('data', ready));
          uploaders.stdout.once('data', ready);
        });
        // Let all 50 get going before the chat phase starts.
        await new Promise((r) => setTimeout(r, 2000));
        const startedAt = Date.now();
        await loopDelay();
        benchLoop.reset();
        const chatWithUploads = await runPhase(clients, RATE, SECONDS, 3000, 'busy');
        const loopBusy = await loopDelay();
        const benchBusy = ownLoop();
        const endedAt = Date.now();
        const exited = new Promise((r) => uploaders.once('exit', r));
        uploaders.kill('SIGTERM');
        await exited;
        const report = JSON.parse(out.slice(out.indexOf('ready\n') + 6).trim()) as { done: [number, number][]; failed: Record<string, number> };
        const during = report.done.filter(([, at]) => at >= startedAt && at <= endedAt);
        const uploadsDuringChat = {
          bytes: small.length,
          completed: report.done.length,
          failed: report.failed,
          perSecond: round(during.length / ((endedAt - startedAt) / 1000)),
          latencyMs: stats(report.done.map(([ms]) => ms)),
        };
        log(
          `${name}: chat at ${RATE}/s with ${UPLOADERS} concurrent 1 MB uploads: ${chatWithUploads.delivered}/${chatWithUploads.sent} delivered, ` +
            `p50 ${chatWithUploads.p50} ms, p99 ${chatWithUploads.p99} ms, max ${chatWithUploads.max} ms; ` +
            `uploads ${uploadsDuringChat.perSecond}/s, latency p50 ${uploadsDuringChat.latencyMs.p50} ms p99 ${uploadsDuringChat.latencyMs.p99} ms, failed ${JSON.stringify(report.failed)}; ` +
            `app event-loop delay p99 ${loopBusy.p99} ms, max ${loopBusy.max} ms, GC ${JSON.stringify(loopBusy.gc)}; load generator's p99 ${benchBusy.p99} ms (alone: ${benchAlone.p99} ms)`,
        );
        results.push({
          target: name,
          jpeg4mb,
          chatAlone,
          chatWithUploads,
          uploadsDuringChat,
          appEventLoopDelayMs: { alone: loopAlone, withUploads: loopBusy },
          loadGeneratorEventLoopDelayMs: { alone: benchAlone, withUploads: benchBusy },
          loadAverage: { before: loadBefore.map(round), after: os.loadavg().map(round) },
        });
      } finally {
        disconnectAll(clients);
      }
    } finally {
      await t.stop();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}
