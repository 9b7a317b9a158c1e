// An upload over the limit is refused as early as possible, and its body is not read to the end
// (issue 13, "Bad input": "the server stops reading it early rather than buffering it"). The
// proof is on both sides of the connection: the client is answered before it has sent its body,
// and the server's socket has read a bounded number of bytes when it closes.
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { upload } from '../helpers/uploads.ts';

const LIMIT = 1024 * 1024;
const TOTAL = 64 * 1024 * 1024;

interface Outcome {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** Body bytes the client had handed to its socket when the answer came. */
  sentWhenAnswered: number;
  /** Bytes the server's side of this connection read, all told, once it closed. */
  serverRead: number;
}

describe.each(dbTargets())('oversized uploads on %s', (target) => {
  let s: TestServer;
  let alice: TestUser;
  const serverSockets: Socket[] = [];

  beforeAll(async () => {
    s = await startServer({ target, config: { uploadMaxBytes: LIMIT } });
    alice = await s.register();
    s.app.http.on('connection', (socket: Socket) => serverSockets.push(socket));
  });
  afterAll(() => s.close());

  /**
   * Streams a multipart upload of TOTAL bytes as fast as the connection takes it: chunked, or
   * with its true Content-Length.
   */
  function stream(opts: { token: string | null; chunked: boolean }): Promise<Outcome> {
    const boundary = 'xXxBoundaryxXx';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const headers: Record<string, string | number> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (!opts.chunked) headers['content-length'] = head.length + TOTAL + tail.length;
    const { port } = new URL(s.url);
    const before = serverSockets.length;

    return new Promise<Outcome>((resolve, reject) => {
      let sent = 0;
      let answered: { status: number; body: unknown; sentWhenAnswered: number } | null = null;
      let clientDone = false;
      const finish = () => {
        if (!answered || !clientDone) return;
        const socket = serverSockets[before];
        if (!socket) return reject(new Error('the server saw no connection'));
        const report = () => resolve({ ...answered!, serverRead: socket.bytesRead });
        if (socket.destroyed) report();
        else socket.once('close', report);
      };
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/uploads', headers, agent: false }, (res) => {
        const sentWhenAnswered = sent;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          answered = { status: res.statusCode!, body: JSON.parse(text), sentWhenAnswered };
          finish();
        });
      });
      // Once answered, the server closes the connection: the client's writes then fail.
      req.on('error', () => {
        clientDone = true;
        finish();
      });
      req.on('close', () => {
        clientDone = true;
        finish();
      });
      req.write(head);
      const pump = () => {
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end(tail);
      };
      pump();
    });
  }

  it('a chunked body: 413 TOO_LARGE once the limit is passed, before the client is done, and the server reads no further', async () => {
    const r = await stream({ token: alice.token, chunked: true });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('TOO_LARGE');
    expect(r.body.error.limit).toEqual({ maxBytes: LIMIT });
    expect(r.sentWhenAnswered).toBeLessThan(TOTAL);
    // The limit, plus the one read that crossed it (64 KB): nowhere near the 64 MB sent, nor a
    // drain of what the client had in flight.
    expect(r.serverRead).toBeGreaterThan(LIMIT);
    expect(r.serverRead).toBeLessThan(LIMIT + 512 * 1024);
  });

  it('a Content-Length over the limit: 413 before the body is read at all', async () => {
    const r = await stream({ token: alice.token, chunked: false });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('TOO_LARGE');
    expect(r.sentWhenAnswered).toBeLessThan(TOTAL);
    expect(r.serverRead).toBeLessThan(256 * 1024);
  });

  it('no token: 401 without reading the body', async () => {
    const r = await stream({ token: null, chunked: true });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHORIZED');
    expect(r.serverRead).toBeLessThan(256 * 1024);
  });

  it('nothing of them was stored, and the server still answers', async () => {
    expect(await s.app.db.prisma.attachment.count()).toBe(0);
    expect((await s.request('GET', '/api/health')).status).toBe(200);
  });
});

describe.each(dbTargets())('uploads in progress per user on %s', (target) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    s = await startServer({ target });
    alice = await s.register();
    bob = await s.register();
  });
  afterAll(() => s.close());

  /** An upload that has sent its headers and part of its body, and waits; `finish` sends the rest. */
  function held(token: string) {
    const boundary = 'hHeldBoundaryh';
    const { port } = new URL(s.url);
    const req = request({
      host: '127.0.0.1', port, method: 'POST', path: '/api/uploads', agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const answer = new Promise<{ status: number; body: any; retryAfter: string | undefined }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), retryAfter: res.headers['retry-after'] as string | undefined }));
      });
      // A refused upload's connection is closed after its answer, while the body is still coming.
      req.on('error', (err) => (answered ? undefined : reject(err)));
    });
    let answered = false;
    void answer.then(() => (answered = true));
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    req.write(Buffer.alloc(1024, 0x42));
    return { answer, finish: () => req.end(`\r\n--${boundary}--\r\n`) };
  }

  it('a fifth upload of one user at once: 429 RATE_LIMITED with Retry-After; others still upload; done ones free a place', async () => {
    // Five at once, each sending a little and then waiting: whichever the server counts fifth is
    // answered at once; the other four wait for the rest of their bodies.
    const five = Array.from({ length: 5 }, () => held(alice.token));
    const first = await Promise.race(five.map((h, i) => h.answer.then((a) => ({ i, ...a }))));
    expect(first.status).toBe(429);
    expect(first.body.error.code).toBe('RATE_LIMITED');
    expect(first.retryAfter).toBe('1');
    const waiting = five.filter((_, i) => i !== first.i);

    expect((await upload(s.url, bob.token, Buffer.from('bob is not held up'), { name: 'b.bin' })).status).toBe(201);
    expect((await upload(s.url, alice.token, Buffer.from('still four at once'), { name: 'x.bin' })).status).toBe(429);

    waiting[0]!.finish();
    expect((await waiting[0]!.answer).status).toBe(201);
    expect((await upload(s.url, alice.token, Buffer.from('a place again'), { name: 'y.bin' })).status).toBe(201);
    for (const h of waiting.slice(1)) h.finish();
    expect((await Promise.all(waiting.slice(1).map((h) => h.answer))).map((a) => a.status)).toEqual([201, 201, 201]);
    // The refused ones stored nothing: four held, bob's, and the one after a place came free.
    expect(await s.app.db.prisma.attachment.count()).toBe(6);
  });
});
