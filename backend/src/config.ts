// Configuration from the environment (DESIGN.md, "Configuration and scripts").
// Every variable is documented with its default in .env.example.
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

// A CSP source for the page's policy: a scheme (`https:`) or a host with optional scheme, port
// and path (`https://*.cdn.example.com`). Nothing that could end the directive or widen it to
// everything: no `;`, `,`, quotes (keywords) or a bare `*`.
const CSP_SOURCE = /^(?:[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::(?:\d{1,5}|\*))?(?:\/[^\s;,'"]*)?)$/i;
const cspSources = z
  .string()
  .transform((v) => v.split(/[\s,]+/).filter(Boolean))
  .refine((list) => list.every((src) => CSP_SOURCE.test(src)), {
    message: 'expected origins such as https://cdn.example.com or https://*.example.com, separated by commas or spaces',
  });

/** Seconds, or a number with a unit: `90`, `90s`, `15m`, `24h`, `7d`. */
const duration = z
  .string()
  .regex(/^\d+\s*[smhd]?$/, 'expected seconds, or a number with s, m, h or d (e.g. 24h)')
  .transform((v) => {
    const n = Number.parseInt(v, 10);
    const unit = v.trim().slice(-1);
    return n * (unit === 'm' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86_400 : 1);
  })
  .refine((n) => n > 0, 'must be more than 0');

const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  PGLITE_DIR: z.string().default('./data/pglite'),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  DB_PREPARED_STATEMENTS: bool.default(true),
  REDIS_URL: z.string().url().optional(),
  REDIS_PREFIX: z.string().min(1).max(64).default('fc:'),
  JWT_SECRET: z.string().min(16).optional(),
  JWT_EXPIRES_IN: z.string().default('7d'),
  CORS_ORIGINS: z.string().optional(),
  HTTPS: bool.default(false),
  CSP_CONNECT_SRC: cspSources.default([]),
  CSP_IMG_SRC: cspSources.default([]),
  CHAT_RATE_LIMIT: z.coerce.number().positive().default(5),
  LOGIN_RATE_LIMIT: z.coerce.number().int().positive().default(10),
  FOLLOW_RATE_LIMIT: z.coerce.number().int().positive().default(30),
  LOGIN_ADDRESS_RATE_LIMIT: z.coerce.number().int().positive().default(30),
  LOGIN_USERNAME_RATE_LIMIT: z.coerce.number().int().positive().default(100),
  REGISTER_RATE_LIMIT: z.coerce.number().int().positive().default(10),
  TRUST_PROXY: z.string().default('loopback'),
  PASSWORD_HASH_THREADS: z.coerce.number().int().min(1).max(16).optional(),
  PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(32),
  MAX_SOCKETS_PER_USER: z.coerce.number().int().positive().default(10),
  MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().positive().default(50),
  SOCKET_EVENT_RATE: z.coerce.number().int().positive().default(20),
  GROUP_MAX_MEMBERS: z.coerce.number().int().min(2).max(100_000).default(500),
  EDIT_WINDOW_SECONDS: z.coerce.number().int().min(0).max(31_536_000).default(900),
  SEED_DEMO: bool.optional(),
  BCRYPT_ROUNDS: z.coerce.number().int().min(4).max(15).default(10),
  PRESENCE_TTL_SECONDS: z.coerce.number().int().positive().default(60),
  LOG_LEVEL: z.enum(['silent', 'error', 'info', 'debug']).default('info'),
  UPLOAD_DIR: z.string().default('./data/uploads'),
  UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  UPLOAD_IMAGE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  ATTACHMENT_URL_TTL: duration.default(86_400),
  S3_BUCKET: z.string().min(3).optional(),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  CONTENT_FILTER_FILE: z.string().optional(),
  CONTENT_FILTER_MODE: z.enum(['mask', 'reject']).default('mask'),
});

export interface Config {
  env: string;
  port: number;
  host: string;
  databaseUrl: string | undefined;
  pgliteDir: string;
  /** Longest a chat module statement may run on PostgreSQL before it is cancelled (ms; 0: none). */
  dbStatementTimeoutMs: number;
  /** The chat module's hot statements as named prepared statements (false behind PgBouncer < 1.21 in transaction mode). */
  dbPreparedStatements: boolean;
  redisUrl: string | undefined;
  /** Prefix of every Redis key and channel, so deployments can share one Redis. */
  redisPrefix: string;
  jwtSecret: string | undefined;
  jwtExpiresIn: string;
  corsOrigins: string[];
  /** Browsers reach the app only over HTTPS (TLS here or at a proxy): send HSTS and upgrade-insecure-requests. */
  https: boolean;
  /** Origins the page may connect to besides its own (CSP connect-src). */
  cspConnectSrc: string[];
  /** Origins the page may load images from besides its own, data: and blob: (CSP img-src). */
  cspImgSrc: string[];
  chatRateLimit: number;
  /** Failed sign-ins per minute per (client address, username). */
  loginRateLimit: number;
  /** Follow and unfollow actions per user and minute. */
  followRateLimit: number;
  /** Sign-in attempts per minute per client address, whatever the username. */
  loginAddressRateLimit: number;
  /** Failed sign-ins per hour per username, from all addresses together. */
  loginUsernameRateLimit: number;
  /** Registrations per hour per client address. */
  registerRateLimit: number;
  /** Express `trust proxy`: which hops may say who the client is (X-Forwarded-For). */
  trustProxy: boolean | number | string;
  /** Worker threads that hash and check passwords. */
  passwordHashThreads: number;
  /** Password jobs that may wait for a thread; beyond that sign-ins answer 503 UNAVAILABLE. */
  passwordHashQueue: number;
  /** Sockets one user may hold at once (all nodes); a newer one closes the oldest. */
  maxSocketsPerUser: number;
  /** Sockets one client address may hold at once (all nodes); beyond, handshakes are refused. */
  maxSocketsPerAddress: number;
  /** Socket events per user per second, all sockets and nodes together, `chat:send` aside. */
  socketEventRate: number;
  /** Members a group may have at most; one more answers GROUP_FULL. */
  groupMaxMembers: number;
  /** How long after sending its sender may edit a message; later → 409 EDIT_WINDOW_CLOSED. */
  editWindowSeconds: number;
  /** undefined = seed only when the database is empty */
  seedDemo: boolean | undefined;
  bcryptRounds: number;
  presenceTtlSeconds: number;
  logLevel: 'silent' | 'error' | 'info' | 'debug';
  /** Where uploads are stored when no S3 bucket is set. */
  uploadDir: string;
  /** Largest upload in bytes; more → 413 TOO_LARGE. */
  uploadMaxBytes: number;
  /** Images re-encoded at once on this node, one core each; the others wait their turn. */
  uploadImageConcurrency: number;
  /** How long signed attachment urls work, in seconds. */
  attachmentUrlTtlSeconds: number;
  /** S3-compatible storage for uploads (several nodes); unset = `uploadDir`. */
  s3:
    | { bucket: string; endpoint?: string; region?: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean }
    | undefined;
  /** A word list (UTF-8, one word or phrase a line, `#` comments); unset = no content filter. */
  contentFilterFile: string | undefined;
  /** What the content filter does with a listed word: mask it with `*`, or refuse the text (422 CONTENT_REJECTED). */
  contentFilterMode: 'mask' | 'reject';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(clean);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid configuration:\n${lines}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new Error('JWT_SECRET is required when NODE_ENV=production (at least 16 characters).');
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    pgliteDir: e.PGLITE_DIR,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    dbPreparedStatements: e.DB_PREPARED_STATEMENTS,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    jwtSecret: e.JWT_SECRET,
    jwtExpiresIn: e.JWT_EXPIRES_IN,
    corsOrigins: (e.CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    https: e.HTTPS,
    cspConnectSrc: e.CSP_CONNECT_SRC,
    cspImgSrc: e.CSP_IMG_SRC,
    chatRateLimit: e.CHAT_RATE_LIMIT,
    loginRateLimit: e.LOGIN_RATE_LIMIT,
    followRateLimit: e.FOLLOW_RATE_LIMIT,
    loginAddressRateLimit: e.LOGIN_ADDRESS_RATE_LIMIT,
    loginUsernameRateLimit: e.LOGIN_USERNAME_RATE_LIMIT,
    registerRateLimit: e.REGISTER_RATE_LIMIT,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    passwordHashThreads: e.PASSWORD_HASH_THREADS ?? defaultHashThreads(),
    passwordHashQueue: e.PASSWORD_HASH_QUEUE,
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    maxSocketsPerAddress: e.MAX_SOCKETS_PER_ADDRESS,
    socketEventRate: e.SOCKET_EVENT_RATE,
    groupMaxMembers: e.GROUP_MAX_MEMBERS,
    editWindowSeconds: e.EDIT_WINDOW_SECONDS,
    seedDemo: e.SEED_DEMO,
    bcryptRounds: e.BCRYPT_ROUNDS,
    presenceTtlSeconds: e.PRESENCE_TTL_SECONDS,
    logLevel: e.LOG_LEVEL,
    uploadDir: e.UPLOAD_DIR,
    uploadMaxBytes: e.UPLOAD_MAX_BYTES,
    uploadImageConcurrency: e.UPLOAD_IMAGE_CONCURRENCY,
    attachmentUrlTtlSeconds: e.ATTACHMENT_URL_TTL,
    s3: e.S3_BUCKET
      ? {
          bucket: e.S3_BUCKET,
          endpoint: e.S3_ENDPOINT,
          region: e.S3_REGION,
          accessKeyId: e.S3_ACCESS_KEY_ID,
          secretAccessKey: e.S3_SECRET_ACCESS_KEY,
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
        }
      : undefined,
    contentFilterFile: e.CONTENT_FILTER_FILE,
    contentFilterMode: e.CONTENT_FILTER_MODE,
    ...overrides,
  };
}

/** `true`/`false`, a number of hops, or Express's names and addresses (`loopback, 10.0.0.0/8`). */
function parseTrustProxy(v: string): boolean | number | string {
  const t = v.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^\d+$/.test(t)) return Number(t);
  return t;
}

/** One core stays with the event loop (and PGlite, which runs on it); at most four threads. */
function defaultHashThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
