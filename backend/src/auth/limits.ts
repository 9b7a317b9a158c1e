// Budgets for sign-up and sign-in attempts (rate-limiter-flexible; one counter across nodes
// with Redis, this node's own while Redis is away). Keys are the client address (see
// `addressKey`) and the normalised username — the same string login looks up — so `" carol\t"`
// and `CAROL` spend carol's budget. Only well-formed requests reach these: invalid bodies are
// answered 400 before anything is counted.
//
// - registration: REGISTER_RATE_LIMIT per hour per address.
// - login, per address: LOGIN_ADDRESS_RATE_LIMIT attempts per minute, whatever the username
//   (every attempt costs a password check, so successes count too).
// - login, per (address, username): LOGIN_RATE_LIMIT failures per minute; a success clears it.
// - login, per username from all addresses: LOGIN_USERNAME_RATE_LIMIT failures per hour, so
//   guessing from many addresses is bounded too (a success gives its attempt back).
// An attempt is counted before its password is checked (so a burst of parallel guesses cannot
// all slip through) and given back when it turns out not to be a failure.
import { isIPv4, isIPv6 } from 'node:net';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClientType } from 'redis';
import type { Config } from '../config.ts';
import { rateLimited } from 'friend-chat/server';
import { createWindowLimiter, type WindowLimiterOptions } from '../host/windowLimiter.ts';

export interface AuthLimits {
  /** Counts a registration from `address`; throws RATE_LIMITED when over budget. */
  register(address: string): Promise<void>;
  /** Counts a login attempt; throws RATE_LIMITED when over budget. Returns how to settle it. */
  login(address: string, username: string): Promise<LoginAttempt>;
}

export interface LoginAttempt {
  /** The password was right: the attempt is not a failure. */
  succeeded(): Promise<void>;
  /** The attempt was never judged (the server was busy): it is given back. */
  notJudged(): Promise<void>;
}

type LimitConfig = Pick<Config, 'loginRateLimit' | 'loginAddressRateLimit' | 'loginUsernameRateLimit' | 'registerRateLimit'>;

/**
 * The budget key of a client address. IPv6 clients usually hold a whole /64, so an IPv6 address
 * counts by its /64 prefix; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as the IPv4 address.
 */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (a:b::1.2.3.4) is two groups; only the first four groups matter here.
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function createAuthLimits(config: LimitConfig, redis: RedisClientType | null, redisOptions: WindowLimiterOptions = {}): AuthLimits {
  const limiter = (name: string, points: number, seconds: number) => createWindowLimiter(redis, `auth:${name}`, points, seconds, redisOptions);
  const registrations = limiter('register-addr', config.registerRateLimit, 3600);
  const attemptsByAddress = limiter('login-addr', config.loginAddressRateLimit, 60);
  const failuresByAddressAndName = limiter('login-addr-name', config.loginRateLimit, 60);
  const failuresByName = limiter('login-name', config.loginUsernameRateLimit, 3600);

  const message = 'Too many attempts, try again later';
  async function take(l: RateLimiterAbstract, key: string): Promise<number | null> {
    try {
      await l.consume(key);
      return null;
    } catch (err) {
      if (err instanceof RateLimiterRes) return err.msBeforeNext;
      throw err;
    }
  }
  const refuse = (waits: (number | null)[]) => {
    const over = waits.filter((w): w is number => w !== null);
    if (over.length) throw rateLimited(message, Math.max(...over) / 1000);
  };
  // Giving back is best effort: a failure here must not turn a good login into an error.
  const quietly = (p: Promise<unknown>) => p.then(() => undefined).catch(() => undefined);

  return {
    async register(address) {
      refuse([await take(registrations, addressKey(address))]);
    },
    async login(address, username) {
      const addr = addressKey(address);
      refuse([await take(attemptsByAddress, addr)]);
      const pair = JSON.stringify([addr, username]);
      const waits = await Promise.all([take(failuresByAddressAndName, pair), take(failuresByName, username)]);
      // A refused attempt is not a failure: the budget that let it through gets its point back.
      if (waits.some((w) => w !== null)) {
        if (waits[0] === null) await quietly(failuresByAddressAndName.reward(pair));
        if (waits[1] === null) await quietly(failuresByName.reward(username));
        refuse(waits);
      }
      return {
        succeeded: () => quietly(Promise.all([failuresByAddressAndName.delete(pair), failuresByName.reward(username)])),
        notJudged: () => quietly(Promise.all([failuresByAddressAndName.reward(pair), failuresByName.reward(username)])),
      };
    },
  };
}
