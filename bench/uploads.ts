// Uploads (issue 13): (1) upload and thumbnail of a 4 MB JPEG, one at a time: the time from the
// first byte sent to the 201 (received, sniffed, re-encoded without metadata, thumbnailed,
// stored); (2) chat latency with 1,000 clients at 1,000 msgs/s, alone and while 50 uploads of a
// 1 MB JPEG run back to back the whole time (50 in flight at once). Target: chat p99 < 50 ms
// (uploads must not block the event loop). The app runs in its own process (bench/targets/app.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { connectClients, disconnectAll, percentile, runPhase, type PhaseResult } from './lib/load.ts';
import { startTarget } from './lib/process.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';

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

async function upload(url: string, token: string, bytes: Buffer, name: string): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), name);
  const res = await fetch(`${url}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  await res.arrayBuffer();
  return res.status;
}

const round = (n: number) => Math.round(n * 10) / 10;
const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: round(percentile(s, 50)), p90: round(percentile(s, 90)), p99: round(percentile(s, 99)), max: round(s.at(-1) ?? NaN) };
};

export interface UploadBenchResult {
  target: string;
  jpeg4mb: { bytes: number; width: number; height: number; uploadMs: ReturnType<typeof stats>; thumbnailGetMs: ReturnType<typeof stats> };
  chatAlone: PhaseResult;
  chatWithUploads: PhaseResult;
  uploadsDuringChat: { bytes: number; completed: number; failed: Record<string, number>; perSecond: number; latencyMs: ReturnType<typeof stats> };
  /** The app process's own event-loop delay during each phase (perf_hooks, 5 ms resolution). */
  appEventLoopDelayMs: Record<'alone' | 'withUploads', { p50: number; p99: number; max: number; mean: number }>;
  loadAverage: { before: number[]; after: number[] };
}

export async function benchUploads(log: (s: string) => void): Promise<UploadBenchResult[]> {
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
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fc-bench-uploads-'));
    const t = await startTarget('app', {
      BENCH_USERS: String(CLIENTS),
      CHAT_RATE_LIMIT: '100000',
      DATABASE_URL: databaseUrl,
      REDIS_URL: undefined,
      UPLOAD_DIR: dir,
      BENCH_HOOKS: '1',
    });
    const loopDelay = async () => (await (await fetch(`${t.hooks}/loop-delay`)).json()) as { p50: number; p99: number; max: number; mean: number };
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
        const chatAlone = await runPhase(clients, RATE, SECONDS, 3000, 'alone');
        const loopAlone = await loopDelay();
        log(`${name}: chat alone at ${RATE}/s: ${chatAlone.delivered}/${chatAlone.sent} delivered, p50 ${chatAlone.p50} ms, p99 ${chatAlone.p99} ms; app event-loop delay p99 ${loopAlone.p99} ms, max ${loopAlone.max} ms`);

        let stop = false;
        const latencies: number[] = [];
        const failed: Record<string, number> = {};
        const uploader = async (i: number) => {
          const token = t.users[i % t.users.length]!.token;
          while (!stop) {
            const t0 = performance.now();
            const status = await upload(t.url, token, small, `u${i}.jpg`).catch(() => 0);
            if (status === 201) latencies.push(performance.now() - t0);
            else failed[status] = (failed[status] ?? 0) + 1;
          }
        };
        const workers = Array.from({ length: UPLOADERS }, (_, i) => uploader(i));
        // Let all 50 get going before the chat phase starts.
        await new Promise((r) => setTimeout(r, 1500));
        const started = performance.now();
        const before = latencies.length;
        await loopDelay();
        const chatWithUploads = await runPhase(clients, RATE, SECONDS, 3000, 'busy');
        const loopBusy = await loopDelay();
        const during = latencies.length - before;
        const elapsed = (performance.now() - started) / 1000;
        stop = true;
        await Promise.all(workers);
        const uploadsDuringChat = { bytes: small.length, completed: latencies.length, failed, perSecond: round(during / elapsed), latencyMs: stats(latencies) };
        log(
          `${name}: chat at ${RATE}/s with ${UPLOADERS} concurrent 1 MB uploads: ${chatWithUploads.delivered}/${chatWithUploads.sent} delivered, ` +
            `p50 ${chatWithUploads.p50} ms, p99 ${chatWithUploads.p99} ms, max ${chatWithUploads.max} ms; ` +
            `uploads ${uploadsDuringChat.perSecond}/s, latency p50 ${uploadsDuringChat.latencyMs.p50} ms p99 ${uploadsDuringChat.latencyMs.p99} ms, failed ${JSON.stringify(failed)}; ` +
            `app event-loop delay p99 ${loopBusy.p99} ms, max ${loopBusy.max} ms`,
        );
        results.push({
          target: name,
          jpeg4mb,
          chatAlone,
          chatWithUploads,
          uploadsDuringChat,
          appEventLoopDelayMs: { alone: loopAlone, withUploads: loopBusy },
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
