import { createServer, request } from 'node:http';
let serverBytes = 0;
const srv = createServer((req, res) => {
  let n = 0;
  req.on('data', (c) => { n += c.length; serverBytes += c.length;
    if (n > 1_000_000 && !res.headersSent) { req.pause(); res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }); res.end('{"error":{"code":"TOO_LARGE"}}'); }
  });
  req.on('end', () => { if (!res.headersSent) res.end('ok'); });
});
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const port = (srv.address() as any).port;
const total = 64 * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 1);
// fetch with a streaming body
for (const mode of ['fetch', 'http']) {
  serverBytes = 0;
  let sent = 0;
  const t0 = Date.now();
  try {
    if (mode === 'fetch') {
      const body = new ReadableStream({ pull(c) { if (sent >= total) return c.close(); sent += chunk.length; c.enqueue(chunk); } });
      const r = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, duplex: 'half' } as any);
      console.log(mode, r.status, await r.text(), 'sent', sent, 'server', serverBytes, Date.now() - t0, 'ms');
    } else {
      await new Promise<void>((resolve) => {
        const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'content-length': total } }, (res) => {
          let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => { console.log(mode, res.statusCode, b, 'sent', sent, 'server', serverBytes, Date.now() - t0, 'ms'); resolve(); });
        });
        req.on('error', (e) => { console.log(mode, 'error', e.message, 'sent', sent, 'server', serverBytes); resolve(); });
        const write = () => { while (sent < total) { sent += chunk.length; if (!req.write(chunk)) return void req.once('drain', write); } req.end(); };
        write();
      });
    }
  } catch (e) { console.log(mode, 'threw', (e as any).cause?.code ?? e, 'sent', sent, 'server', serverBytes); }
}
srv.close();
