// Issue 11, point 4: the password pool says when it is full, sign-ins and sign-ups meeting a
// full pool are refused with 503 UNAVAILABLE before any database work or budget, and the
// hashing threads run at a lower CPU priority than the event loop (Linux). No database here:
// the service gets a stand-in Prisma client that records every use.
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from 'friend-chat/server';
import { createPasswordHasher, type PasswordHasher } from '../../backend/src/auth/passwords.ts';
import { createAuthService } from '../../backend/src/auth/service.ts';
import type { AuthLimits } from '../../backend/src/auth/limits.ts';
import type { TokenService } from '../../backend/src/auth/tokens.ts';

const pools: PasswordHasher[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

/** A pool whose jobs take long enough (cost 13: hundreds of milliseconds) to be caught running. */
function slowPool(threads: number, queue: number): PasswordHasher {
  const pool = createPasswordHasher({ rounds: 13, threads, queue });
  pools.push(pool);
  return pool;
}

async function expectUnavailable(p: Promise<unknown>) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('UNAVAILABLE');
}

describe('password pool full()', () => {
  it('is full exactly when every thread is busy and the queue is at its limit, and again free after', async () => {
    const pool = slowPool(2, 1);
    expect(pool.full()).toBe(false); // no thread started yet
    const jobs = [pool.hash('first-password')];
    expect(pool.full()).toBe(false); // one thread idle (not even started)
    jobs.push(pool.hash('second-password'));
    expect(pool.full()).toBe(false); // both threads busy, one place in the queue
    jobs.push(pool.hash('third-password'));
    expect(pool.full()).toBe(true);
    // What full() says is what a job meets.
    await expectUnavailable(pool.hash('fourth-password'));
    await Promise.all(jobs);
    expect(pool.full()).toBe(false);
    expect(await pool.verify('first-password', await jobs[0]!)).toBe(true);
  }, 60_000);

  it('with no queue, one running job makes a one-thread pool full', async () => {
    const pool = slowPool(1, 0);
    const job = pool.hash('a-password');
    expect(pool.full()).toBe(true);
    await job;
    expect(pool.full()).toBe(false);
  }, 60_000);

  it('is full once closed', async () => {
    const pool = slowPool(1, 4);
    expect(pool.full()).toBe(false);
    await pool.close();
    expect(pool.full()).toBe(true);
    await expectUnavailable(pool.hash('a-password'));
  });
});

describe('sign-in and sign-up on a full pool', () => {
  /** A Prisma client that must not be used: every property read is recorded. */
  function recordingPrisma() {
    const touched: string[] = [];
    const prisma = new Proxy(
      {},
      {
        get(_t, prop) {
          touched.push(String(prop));
          throw new Error(`the database was used: ${String(prop)}`);
        },
      },
    );
    return { prisma: prisma as Parameters<typeof createAuthService>[0]['prisma'], touched };
  }

  function recordingLimits() {
    const calls: string[] = [];
    const limits: AuthLimits = {
      async register(address) {
        calls.push(`register ${address}`);
      },
      async login(address, username) {
        calls.push(`login ${address} ${username}`);
        return { succeeded: async () => {}, notJudged: async () => {} };
      },
    };
    return { limits, calls };
  }

  const tokens: TokenService = {
    sign: () => 'token',
    verify: () => 'user',
    expiresAt: () => null,
  };

  it('answers UNAVAILABLE without a query or a budget while the pool is full', async () => {
    const pool = slowPool(1, 0);
    const { prisma, touched } = recordingPrisma();
    const { limits, calls } = recordingLimits();
    const auth = createAuthService({ prisma, tokens, passwords: pool, limits });

    const running = pool.hash('keeps-the-only-thread-busy');
    expect(pool.full()).toBe(true);
    await expectUnavailable(auth.login({ username: 'carol', password: 'a-wrong-guess' }, { address: '203.0.113.9' }));
    await expectUnavailable(auth.register({ username: 'mallory', password: 'password123' }, { address: '203.0.113.9' }));
    expect(touched).toEqual([]);
    expect(calls).toEqual([]);

    // Once the thread is free, the same sign-in goes on to the budget and the database (which
    // this stand-in refuses: proof that it was reached).
    await running;
    expect(pool.full()).toBe(false);
    await expect(auth.login({ username: 'carol', password: 'a-wrong-guess' }, { address: '203.0.113.9' })).rejects.toThrow(
      'the database was used',
    );
    expect(calls).toEqual(['login 203.0.113.9 carol']);
    expect(touched.length).toBeGreaterThan(0);
  }, 60_000);
});

/** The nice value in a /proc …/stat line: field 19, counted after the command name (which may hold spaces). */
const niceOf = (statFile: string) => {
  const stat = readFileSync(statFile, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
};
/** Nice values of this process's threads (Linux). */
const threadNices = () => readdirSync('/proc/self/task').map((tid) => niceOf(`/proc/self/task/${tid}/stat`));

describe.runIf(process.platform === 'linux')('hashing threads (Linux)', () => {
  it('run at a lower CPU priority than the thread that started them', async () => {
    const mine = niceOf('/proc/thread-self/stat');
    expect(mine).toBeLessThan(19); // else there is no lower priority to give them
    const lowered = Math.min(19, mine + 10);
    const before = threadNices().filter((n) => n === lowered).length;
    const pool = slowPool(2, 0);
    await Promise.all([pool.hash('one-password'), pool.hash('two-password')]);
    expect(threadNices().filter((n) => n === lowered).length).toBe(before + 2);
  }, 60_000);
});
