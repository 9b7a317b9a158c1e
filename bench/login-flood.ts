// Sign-in flood (issue 11, point 4): another signed-in user's API latency while 50 logins per
// second with wrong passwords hit the node. The node runs in its own process with the default
// password settings (BCRYPT_ROUNDS=10, PASSWORD_HASH_THREADS and PASSWORD_HASH_QUEUE at their
// defaults). The probe (GET /api/me and GET /api/friends in turn, 50/s, open loop: a stall
// shows as latency, not as fewer samples) runs in each phase:
//   - quiet: no flood, the reference;
//   - many addresses: half unknown usernames, half known ones, each from one of 1,024 client
//     addresses (X-Forwarded-For, which the default TRUST_PROXY takes from a local peer), so
//     the address budgets barely bite and the password pool takes the load;
//   - one address: the same flood from a single address, which its budget cuts off.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { percentile } from './lib/load.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const LOGIN_RATE = Number(process.env.BENCH_LOGIN_RATE ?? 50);
const PROBE_RATE = 50;
const KNOWN = 10;

interface Phase {
  phase: string;
  probes: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  logins: number;
  loginAnswers: Record<string, number>;
  /** The machine's 1/5/15-minute load averages at the end of the phase (2 cores: 2 = busy). */
  loadAverage: number[];
}

const round = (n: number) => Math.round(n * 100) / 100;

async function post(url: string, body: unknown, from: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': from }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** Calls `fn` `rate` times a second for `seconds`, on schedule whether or not earlier calls finished. */
async function openLoop(rate: number, seconds: number, fn: (i: number) => Promise<void>): Promise<void> {
  const total = Math.round(rate * seconds);
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(fn(i));
  }
  await Promise.all(pending);
}

async function phase(t: Target, name: string, token: string, flood: ((i: number) => string) | null, known: string[]): Promise<Phase> {
  const latencies: number[] = [];
  const answers: Record<string, number> = {};
  let logins = 0;
  const probe = openLoop(PROBE_RATE, SECONDS, async (i) => {
    const t0 = performance.now();
    const res = await fetch(`${t.url}/api/${i % 2 ? 'friends' : 'me'}`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`probe answered ${res.status}`);
    latencies.push(performance.now() - t0);
  });
  const attack = flood
    ? openLoop(LOGIN_RATE, SECONDS, async (i) => {
        const username = i % 2 ? known[i % known.length]! : `nobody_${randomBytes(4).toString('hex')}`;
        const status = await post(`${t.url}/api/auth/login`, { username, password: `wrong-${i}` }, flood(i));
        logins++;
        answers[status] = (answers[status] ?? 0) + 1;
      })
    : Promise.resolve();
  await Promise.all([probe, attack]);
  latencies.sort((a, b) => a - b);
  return {
    phase: name,
    probes: latencies.length,
    p50: round(percentile(latencies, 50)),
    p90: round(percentile(latencies, 90)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies.at(-1) ?? NaN),
    logins,
    loginAnswers: answers,
    loadAverage: os.loadavg().map(round),
  };
}

export async function benchLoginFlood(log: (s: string) => void) {
  const out: Record<string, unknown> = {};
  const targets: [string, string | undefined, (() => Promise<void>) | null][] = [['PGlite', undefined, null]];
  if (await pgAvailable()) {
    const db = await createBenchDatabase();
    targets.push(['PostgreSQL', db.url, db.drop]);
  }
  for (const [dbName, url, drop] of targets) {
    // The probe user is seeded by the target (with a token); the known usernames are registered
    // over the API so they have real password hashes.
    const t = await startTarget('app', {
      BENCH_USERS: '2',
      DATABASE_URL: url,
      REDIS_URL: undefined,
      BCRYPT_ROUNDS: undefined,
      REGISTER_RATE_LIMIT: '1000',
    });
    try {
      const known: string[] = [];
      for (let i = 0; i < KNOWN; i++) {
        const username = `known_${i}_${randomBytes(3).toString('hex')}`;
        const status = await post(`${t.url}/api/auth/register`, { username, password: 'the-right-password' }, '192.0.2.1');
        if (status !== 201) throw new Error(`register answered ${status}`);
        known.push(username);
      }
      const token = t.users[0]!.token;
      const phases = [];
      for (const [name, flood] of [
        ['quiet', null],
        ['many addresses', (i: number) => `10.0.${(i >> 8) & 3}.${i & 255}`],
        ['one address', () => '192.0.2.77'],
      ] as const) {
        const r = await phase(t, name, token, flood, known);
        log(
          `${dbName}, ${name}: other user's API p50 ${r.p50} / p90 ${r.p90} / p99 ${r.p99} / max ${r.max} ms over ${r.probes} requests; ` +
            `${r.logins} logins answered ${JSON.stringify(r.loginAnswers)}; load average ${r.loadAverage.join(' ')}`,
        );
        phases.push(r);
        await new Promise((res) => setTimeout(res, 1000));
      }
      out[dbName] = phases;
    } finally {
      await t.stop();
      await drop?.();
    }
  }
  return { seconds: SECONDS, loginRate: LOGIN_RATE, probeRate: PROBE_RATE, targets: out };
}
