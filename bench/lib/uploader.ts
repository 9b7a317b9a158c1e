// A load process of its own for the uploads benchmark: `BENCH_UPLOADERS` uploads of the file at
// `BENCH_UPLOAD_FILE` in flight at once, back to back, to `BENCH_UPLOAD_URL` with the tokens in
// `BENCH_UPLOAD_TOKENS` (JSON), until SIGTERM; then one JSON line: each finished upload's
// latency and end time, and the failures by status. Kept apart from the chat clients so their
// latency is measured on an event loop that does nothing else.
import { readFileSync } from 'node:fs';

const url = process.env.BENCH_UPLOAD_URL!;
const tokens = JSON.parse(process.env.BENCH_UPLOAD_TOKENS ?? '[]') as string[];
const file = readFileSync(process.env.BENCH_UPLOAD_FILE!);
const concurrency = Number(process.env.BENCH_UPLOADERS ?? 50);

let stop = false;
const done: [number, number][] = []; // [latency ms, finished at (epoch ms)]
const failed: Record<string, number> = {};

async function uploader(i: number) {
  const token = tokens[i % tokens.length]!;
  while (!stop) {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(file)], { type: 'image/jpeg' }), `u${i}.jpg`);
    const t0 = performance.now();
    try {
      const res = await fetch(`${url}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
      await res.arrayBuffer();
      if (res.status === 201) done.push([performance.now() - t0, Date.now()]);
      else failed[res.status] = (failed[res.status] ?? 0) + 1;
    } catch {
      failed.network = (failed.network ?? 0) + 1;
    }
  }
}

const workers = Array.from({ length: concurrency }, (_, i) => uploader(i));
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  stop = true;
  void Promise.all(workers).then(() => {
    process.stdout.write(JSON.stringify({ done, failed }) + '\n');
    process.exit(0);
  });
});
