// One user floods `chat:sync` (issue 11, point 5): 30 sockets × 80 requests/s each. Meanwhile
// another user asks every 100 ms, alternately over the socket (`chat:sync`) and HTTP (unread
// counts); their latency is the figure. Measured with the limits off (what the app did before)
// and with the defaults (MAX_SOCKETS_PER_USER 10, SOCKET_EVENT_RATE 20).
import { io, type Socket } from 'socket.io-client';
import { percentile } from './lib/load.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';

const SOCKETS = Number(process.env.BENCH_FLOOD_SOCKETS ?? 30);
const PER_SOCKET = Number(process.env.BENCH_FLOOD_RATE ?? 80);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const STORED = 300; // messages in the flooder's conversation, so each sync page is a full 100
const ACK_TIMEOUT_MS = 10_000;

type Ack = { ok: boolean; error?: { code: string } };
const round = (n: number) => Math.round(n * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A connected socket; `onClosed` hears `session:closed` from the start (it may come at once). */
function open(url: string, token: string, onClosed: (reason: string) => void = () => {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    s.on('session:closed', ({ reason }: { reason: string }) => onClosed(reason));
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

/** The ack, or why there was none: the socket closed first, or no answer in time. */
function ask(s: Socket, event: string, payload: unknown): Promise<Ack | 'closed' | 'timeout'> {
  return s
    .timeout(ACK_TIMEOUT_MS)
    .emitWithAck(event, payload)
    .then(
      (a: Ack) => a,
      () => (s.connected ? ('timeout' as const) : ('closed' as const)),
    );
}

/** The other user: one request every 100 ms for `seconds`; answers their latencies. */
async function victim(t: Target, socket: Socket, seconds: number) {
  const [alice] = [t.users[2]!];
  const latencies: number[] = [];
  let failed = 0;
  const runs: Promise<void>[] = [];
  for (let i = 0; i < seconds * 10; i++) {
    const t0 = performance.now();
    const done =
      i % 2 === 0
        ? ask(socket, 'chat:sync', { limit: 100 }).then((a) => typeof a === 'object' && a.ok)
        : fetch(`${t.url}/api/messages/unread/count`, { headers: { authorization: `Bearer ${alice.token}` } }).then((r) => r.ok, () => false);
    runs.push(
      done.then((ok) => {
        if (ok) latencies.push(performance.now() - t0);
        else failed++;
      }),
    );
    await sleep(100);
  }
  await Promise.all(runs);
  latencies.sort((a, b) => a - b);
  return { requests: seconds * 10, failed, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies.at(-1) ?? NaN) };
}

async function scenario(name: string, env: Record<string, string | undefined>, log: (s: string) => void) {
  const t = await startTarget('app', { BENCH_USERS: '4', CHAT_RATE_LIMIT: '100000', ...env });
  try {
    const [mallory, friend, alice] = [t.users[0]!, t.users[1]!, t.users[2]!];
    // Over HTTP: one socket sending this fast would be cut off by the per-socket flood limit.
    for (let i = 0; i < STORED; i++) {
      const r = await fetch(`${t.url}/api/messages/${friend.id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${mallory.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: `stored ${i}` }),
      });
      if (r.status !== 201) throw new Error(`seeding failed: ${r.status}`);
    }
    const aliceTab = await open(t.url, alice.token);

    const quiet = await victim(t, aliceTab, SECONDS);
    log(`${name}: other user, quiet: p50 ${quiet.p50} ms, p99 ${quiet.p99} ms, max ${quiet.max} ms`);

    let closedBySession = 0;
    const tabs = await Promise.all(Array.from({ length: SOCKETS }, () => open(t.url, mallory.token, () => closedBySession++)));
    await sleep(500); // the per-user cap settles
    const outcomes: Record<string, number> = {};
    const count = (k: string) => {
      outcomes[k] = (outcomes[k] ?? 0) + 1;
    };
    const flood: Promise<void>[] = [];
    let stop = false;
    const pump = async () => {
      // Every 100 ms, each socket sends a tenth of its per-second share.
      while (!stop) {
        for (const s of tabs) {
          for (let i = 0; i < PER_SOCKET / 10; i++) {
            if (!s.connected) {
              count('not sent: socket closed');
              continue;
            }
            flood.push(ask(s, 'chat:sync', { limit: 100 }).then((a) => count(typeof a === 'string' ? a : a.ok ? 'ok' : a.error!.code)));
          }
        }
        await sleep(100);
      }
    };
    const pumping = pump();
    const loaded = await victim(t, aliceTab, SECONDS);
    stop = true;
    await pumping;
    await Promise.all(flood);
    const open_ = tabs.filter((s) => s.connected).length;
    log(
      `${name}: other user, during the flood: p50 ${loaded.p50} ms, p99 ${loaded.p99} ms, max ${loaded.max} ms, failed ${loaded.failed}/${loaded.requests}; ` +
        `flooder: ${open_}/${SOCKETS} sockets open (${closedBySession} told too_many_sockets), acks ${JSON.stringify(outcomes)}`,
    );
    for (const s of [...tabs, aliceTab]) s.disconnect();
    return { name, quiet, loaded, flooder: { sockets: SOCKETS, open: open_, closedBySession, outcomes } };
  } finally {
    await t.stop();
  }
}

export async function benchFlood(log: (s: string) => void) {
  const off = { MAX_SOCKETS_PER_USER: '1000', SOCKET_EVENT_RATE: '1000000' };
  const results = [];
  for (const [db, dbEnv, drop] of await targets()) {
    results.push(await scenario(`${db}, limits off (as before)`, { ...dbEnv, ...off }, log));
    results.push(await scenario(`${db}, defaults`, dbEnv, log));
    await drop();
  }
  return results;
}

async function targets(): Promise<[string, Record<string, string | undefined>, () => Promise<void>][]> {
  const list: [string, Record<string, string | undefined>, () => Promise<void>][] = [['PGlite', { DATABASE_URL: undefined, REDIS_URL: undefined }, async () => {}]];
  if (await pgAvailable()) {
    const db = await createBenchDatabase();
    list.push(['PostgreSQL', { DATABASE_URL: db.url, REDIS_URL: undefined }, db.drop]);
  }
  return list;
}
