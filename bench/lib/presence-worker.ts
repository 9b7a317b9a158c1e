// One client process of the presence-scale bench (bench/presence-scale.ts): holds its share of
// the users' sockets (socket.io-client, WebSocket transport) from its own loopback source address,
// churns them on request, and records every `presence:update` it receives. Times are
// performance.timeOrigin + performance.now(): one wall clock shared by every process here.
import { readFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { readRss } from './process.ts';

export type ToWorker =
  | { type: 'init'; usersFile: string; from: number; to: number; urls: string[]; localAddress: string; inflight: number }
  | { type: 'churn'; perSecond: number; seconds: number; minOfflineMs: number; drainMs: number }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'progress'; connected: number }
  | { type: 'connected'; connected: number; perUrl: number[]; failed: Record<string, number>; failedUsers: number[]; ms: number; rss: number }
  | {
      type: 'churned';
      /** Per change: user index, 1 = came online / 0 = went offline, when the client acted (ms). */
      changes: Float64Array;
      /** Per connect of the churn: user index, when `connect` arrived (the socket is in its room). */
      ready: Float64Array;
      /** Per `presence:update` received: about whom, online flag, when, received by whom. */
      arrivals: Float64Array;
      /** Connect (handshake) durations during the churn, ms. */
      connectMs: number[];
      /** Sockets the server or the network closed (user index, when), since the start. */
      dropped: Float64Array;
      droppedReasons: Record<string, number>;
      failed: Record<string, number>;
      rss: number;
    };

const now = () => performance.timeOrigin + performance.now();
const send = (m: FromWorker) => process.send!(m);

let users: { id: string; token: string }[] = [];
let index = new Map<string, number>();
let init: Extract<ToWorker, { type: 'init' }>;
const sockets = new Map<number, Socket>();
const failed: Record<string, number> = {};
/** Sockets closed without the bench asking: user index, when (pairs). */
const dropped: number[] = [];
const droppedReasons: Record<string, number> = {};
let recording = false;
const arrivals: number[] = [];

function open(i: number): Promise<boolean> {
  const u = users[i]!;
  return new Promise((resolve) => {
    const socket = io(init.urls[i % init.urls.length]!, {
      auth: { token: u.token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      localAddress: init.localAddress,
    } as Parameters<typeof io>[1]);
    socket.on('presence:update', (p: { userId: string; online: boolean }) => {
      if (!recording) return;
      arrivals.push(index.get(p.userId) ?? -1, p.online ? 1 : 0, now(), i);
    });
    socket.once('connect', () => {
      sockets.set(i, socket);
      resolve(true);
    });
    // Closed by the server or the network (a ping timeout on a starved process), not by us:
    // the user went offline without the bench asking; counted, and no longer churned.
    socket.on('disconnect', (reason: string) => {
      if (reason === 'io client disconnect' || sockets.get(i) !== socket) return;
      sockets.delete(i);
      dropped.push(i, now());
      droppedReasons[reason] = (droppedReasons[reason] ?? 0) + 1;
    });
    socket.once('connect_error', (err: Error) => {
      failed[err.message] = (failed[err.message] ?? 0) + 1;
      socket.close();
      resolve(false);
    });
  });
}

async function connectAll(): Promise<void> {
  const t0 = now();
  let next = init.from;
  const failedUsers: number[] = [];
  const progress = setInterval(() => send({ type: 'progress', connected: sockets.size }), 10_000);
  await Promise.all(
    Array.from({ length: init.inflight }, async () => {
      while (next < init.to) {
        const i = next++;
        if (!(await open(i))) failedUsers.push(i);
      }
    }),
  );
  clearInterval(progress);
  const perUrl = init.urls.map((_, k) => [...sockets.keys()].filter((i) => i % init.urls.length === k).length);
  send({ type: 'connected', connected: sockets.size, perUrl, failed: { ...failed }, failedUsers, ms: now() - t0, rss: readRss(process.pid) });
}

async function churn(c: Extract<ToWorker, { type: 'churn' }>): Promise<void> {
  const online = [...sockets.keys()];
  const offline: { i: number; at: number }[] = [];
  const changes: number[] = [];
  const ready: number[] = [];
  const connectMs: number[] = [];
  const total = Math.round(c.perSecond * c.seconds);
  const pending: Promise<unknown>[] = [];
  recording = true;
  const start = now();
  let done = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      const due = Math.min(total, Math.floor(((t - start) / 1000) * c.perSecond));
      while (done < due) {
        done++;
        const back = offline[0];
        // Every other change brings back the longest-offline user (offline at least
        // minOfflineMs, so one user's two updates are far apart); the others take one offline.
        if (done % 2 === 0 && back && t - back.at >= c.minOfflineMs) {
          offline.shift();
          const at = now();
          changes.push(back.i, 1, at);
          pending.push(
            open(back.i).then((ok) => {
              if (!ok) return;
              const r = now();
              ready.push(back.i, r);
              connectMs.push(r - at);
              online.push(back.i);
            }),
          );
        } else if (online.length > 0) {
          const k = Math.floor(Math.random() * online.length);
          const i = online[k]!;
          online[k] = online[online.length - 1]!;
          online.pop();
          const socket = sockets.get(i);
          if (!socket) {
            done--; // dropped meanwhile: pick another
            continue;
          }
          sockets.delete(i);
          const at = now();
          changes.push(i, 0, at);
          socket.disconnect();
          offline.push({ i, at });
        }
      }
      if (done >= total) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  await Promise.all(pending);
  await new Promise((r) => setTimeout(r, c.drainMs));
  recording = false;
  send({
    type: 'churned',
    changes: Float64Array.from(changes),
    ready: Float64Array.from(ready),
    arrivals: Float64Array.from(arrivals),
    connectMs,
    dropped: Float64Array.from(dropped),
    droppedReasons: { ...droppedReasons },
    failed: { ...failed },
    rss: readRss(process.pid),
  });
  arrivals.length = 0;
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'init') {
    init = m;
    users = JSON.parse(readFileSync(m.usersFile, 'utf8'));
    index = new Map(users.map((u, i) => [u.id, i]));
    void connectAll();
  } else if (m.type === 'churn') {
    void churn(m);
  } else {
    for (const s of sockets.values()) s.disconnect();
    setTimeout(() => process.exit(0), 500);
  }
});
