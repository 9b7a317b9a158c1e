// The demo host's composition root: config → its database → the chat module (through
// `friend-chat/server` only, as any site embeds it) → its own services, routes and sockets.
// Nothing reaches for a global, so a test builds a whole app on a fresh database with one call.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { createClient, type RedisClientType } from 'redis';
import { createFriendChat, createLogger, readWordList, type FriendChat, type Logger } from 'friend-chat/server';
import type { Config } from './config.ts';
import { openHostDatabase, type HostDatabase } from './host/db.ts';
import { createTokenService, resolveJwtSecret, type TokenService } from './auth/tokens.ts';
import { requireAuth } from './auth/middleware.ts';
import { createAuthService } from './auth/service.ts';
import { createAuthLimits } from './auth/limits.ts';
import { createPasswordHasher } from './auth/passwords.ts';
import { authRoutes } from './auth/routes.ts';
import { compileTrustProxy, createHttpApp } from './http/server.ts';
import { createAchievementService } from './host/achievements/service.ts';
import { createFollowService } from './host/follows/service.ts';
import { createTaskService } from './host/tasks/service.ts';
import { createUserService } from './host/users/service.ts';
import { createWorkService } from './host/works/service.ts';
import { createHostNotifications, type HostNotifications } from './host/notifications.ts';
import { isUuid } from './host/users/public.ts';
import { hostRoutes } from './host/routes.ts';
import { seedDemo, STARTUP_LOCK_KEY } from './db/seed.ts';
import { createFollowLimiter } from './host/follows/limiter.ts';
import { batched, batchedLookup } from './host/batched.ts';

export const FRONTEND_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/public');

export interface AppOptions {
  /** Apply migrations on start (default true). */
  migrate?: boolean;
  /** Seed the demo users: true, false, or 'if-empty' (default: config.seedDemo ?? 'if-empty'). */
  seed?: boolean | 'if-empty';
  staticDir?: string | null;
}

type ChatInternals = FriendChat['internals'];

export interface App {
  config: Config;
  /** The chat module's database (its schema). For tests and benchmarks (see `forTests` below). */
  db: ChatInternals['db'];
  /** The demo host's own database (public). */
  hostDb: HostDatabase;
  chat: FriendChat;
  http: HttpServer;
  io: ReturnType<FriendChat['attach']>;
  /** For tests and benchmarks (see `forTests` below). */
  bus: ChatInternals['bus'];
  tokens: TokenService;
  logger: Logger;
  nodeId: string;
  /** The demo's notifications; `messages` and `unread` are the module's, for tests and benchmarks. */
  services: { messages: ChatInternals['services']['messages']; notifications: HostNotifications; unread: ChatInternals['services']['unread'] };
  seed(opts: { onlyIfEmpty: boolean }): Promise<boolean>;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = createLogger(config.logLevel);
  const nodeId = randomUUID().slice(0, 8);
  // CONTENT_FILTER_FILE: read once, before anything opens (a missing file stops the start, naming it).
  const contentFilterWords = config.contentFilterFile ? readWordList(config.contentFilterFile) : null;
  if (contentFilterWords) logger.info(`content filter: ${contentFilterWords.length} words from ${config.contentFilterFile} (${config.contentFilterMode})`);

  const hostDb = await openHostDatabase(config);
  const cleanups: (() => Promise<unknown>)[] = [() => hostDb.close()];
  try {
    const { prisma } = hostDb;
    const secret = resolveJwtSecret(config.jwtSecret, hostDb.dataDir);
    const tokens = createTokenService(secret, config.jwtExpiresIn);
    const users = createUserService(prisma);
    const achievements = createAchievementService(prisma);
    // The chat module needs the follow service (friends) and the follow service needs the chat
    // (notifications, friendsChanged): the ports call it once both exist.
    let follows: ReturnType<typeof createFollowService> | null = null;
    let onMessageSent: (from: string) => Promise<void> = async () => {};
    let wantsFirstMessage: (from: string) => boolean = () => true;

    // A session is a valid token of a user who still exists (HTTP routes of the host and the chat alike).
    // Checked together: a burst of socket handshakes (and API calls) asks for its users in one
    // query, not one each.
    const userExists = batchedLookup<string, boolean>(async (ids) => new Map((await users.byIds(ids)).map((u) => [u.id, true])), false);
    const session = async (token: string): Promise<string | null> => {
      const id = tokens.verify(token);
      return (await userExists(id)) ? id : null;
    };
    // The chat's identify also says when the session ends (the JWT's exp): its sockets close then.
    const chatSession = async (token: string) => {
      const userId = await session(token);
      return userId === null ? null : { userId, expiresAt: tokens.expiresAt(token) };
    };
    // The module first: its migrations take the round-1 chat data out of `public` before the
    // host's own migrations drop it there.
    const chat = await createFriendChat({
      // The module's own pool on PostgreSQL gets the statement timeout (PGlite has none).
      database:
        'url' in hostDb.source
          ? { ...hostDb.source, statementTimeoutMs: config.dbStatementTimeoutMs, preparedStatements: config.dbPreparedStatements }
          : hostDb.source,
      migrate: options.migrate !== false,
      identify: chatSession,
      users,
      friends: {
        areFriends: (a, b) => follows!.areFriends(a, b),
        friendIds: (id) => follows!.friendIds(id),
        friendIdsMany: (ids) => follows!.friendIdsMany(ids),
      },
      hooks: {
        messageSent: (m) => (m.fromUserId ? onMessageSent(m.fromUserId) : undefined),
        // Only a sender who may not hold FIRST_MESSAGE yet: later messages get no outbox row.
        wantsMessageSent: (m) => wantsFirstMessage(m.fromUserId),
      },
      // The hook joins a batch (one transaction for many senders, below), so many may wait at
      // once without holding a database connection each.
      outbox: { concurrency: 256 },
      redis: config.redisUrl ? { url: config.redisUrl, prefix: config.redisPrefix } : undefined,
      uploads: { ...(config.s3 ? { s3: config.s3 } : { dir: config.uploadDir }), imageConcurrency: config.uploadImageConcurrency },
      limits: {
        uploadMaxBytes: config.uploadMaxBytes,
        attachmentUrlTtlSeconds: config.attachmentUrlTtlSeconds,
        chatRatePerSecond: config.chatRateLimit,
        presenceTtlSeconds: config.presenceTtlSeconds,
        socketsPerUser: config.maxSocketsPerUser,
        socketsPerAddress: config.maxSocketsPerAddress,
        socketEventsPerUserPerSecond: config.socketEventRate,
        groupMaxMembers: config.groupMaxMembers,
        editWindowSeconds: config.editWindowSeconds,
      },
      contentFilter: contentFilterWords ? { words: contentFilterWords, mode: config.contentFilterMode } : undefined,
      corsOrigins: config.corsOrigins,
      // TRUST_PROXY as Express reads it for HTTP: the handshake's client address (for
      // MAX_SOCKETS_PER_ADDRESS) and host (for the Origin check) are the ones HTTP sees.
      trustedProxy: compileTrustProxy(config.trustProxy),
      logger,
      nodeId,
    });
    cleanups.unshift(() => chat.close());
    if (options.migrate !== false) await hostDb.migrate((l) => logger.info(l));

    // Login, registration, follow and unfollow limits, shared through the demo's own Redis
    // connection when it has one.
    let redis: RedisClientType | null = null;
    if (config.redisUrl) {
      redis = createClient({ url: config.redisUrl, disableOfflineQueue: true }) as RedisClientType;
      redis.on('error', (err: Error) => logger.debug(`redis (host limits): ${err.message}`));
      await redis.connect();
      const r = redis;
      cleanups.unshift(() => r.close().catch(() => r.destroy()));
    }
    const redisLimiterOptions = {
      prefix: config.redisPrefix,
      onError: (err: unknown) => logger.debug(`redis fallback: ${err instanceof Error ? err.message : String(err)}`),
    };
    const followLimiter = createFollowLimiter(config.followRateLimit, redis ? { client: redis, prefix: config.redisPrefix } : undefined);
    follows = createFollowService(prisma, chat, achievements, followLimiter);
    const works = createWorkService(prisma, chat, achievements);
    const tasks = createTaskService(prisma, chat, achievements);
    // Sign-up and sign-in budgets (rate-limiter-flexible) over the same connection.
    const authLimits = createAuthLimits(config, redis, redisLimiterOptions);
    // bcrypt in worker threads; closed after the server stops taking requests.
    const passwords = createPasswordHasher({ rounds: config.bcryptRounds, threads: config.passwordHashThreads, queue: config.passwordHashQueue });
    cleanups.unshift(() => passwords.close());
    const auth = createAuthService({ prisma, tokens, passwords, limits: authLimits });
    // The first chat message a user sends unlocks an achievement (the chat module's hook).
    // Senders whose hooks run together share one transaction (a cold start's thousand first
    // messages cost a few transactions, not a thousand); each hook resolves once its batch committed.
    const unlockFirstMessages = batched<string>((senders) =>
      chat.notifications.transaction(
        prisma,
        async (tx, notify) => void (await achievements.unlockMany(tx, notify, senders, 'FIRST_MESSAGE')),
        // Held either way once committed: skipped from now on.
        { afterCommit: () => senders.forEach((id) => achievements.remember(id, 'FIRST_MESSAGE')) },
      ),
    );
    onMessageSent = async (from) => {
      if (!isUuid(from) || !achievements.mayUnlock(from, 'FIRST_MESSAGE')) return;
      await unlockFirstMessages(from);
    };
    wantsFirstMessage = (from) => isUuid(from) && achievements.mayUnlock(from, 'FIRST_MESSAGE');

    // One node at a time: nodes started together on an empty database would all seed it.
    const seed = (opts: { onlyIfEmpty: boolean }) =>
      hostDb.withAdvisoryLock(STARTUP_LOCK_KEY, () => seedDemo(prisma, chat, { ...opts, hashPassword: passwords.hash }));
    const seedOption = options.seed ?? config.seedDemo ?? 'if-empty';
    await hostDb.withAdvisoryLock(STARTUP_LOCK_KEY, async () => {
      await achievements.ensureCatalogue();
      await tasks.ensureCatalogue();
    });
    if (seedOption !== false && (await seed({ onlyIfEmpty: seedOption === 'if-empty' }))) {
      logger.info('seeded demo users alice, bob, carol (password: password123)');
    }

    const authGuard = requireAuth(session);
    const publicRoutes = Router();
    publicRoutes.get('/health', async (_req, res) => {
      const { db: dbOk, redis: redisOk } = await chat.health();
      res.status(dbOk && redisOk !== false ? 200 : 503).json({ ok: dbOk && redisOk !== false, db: dbOk, redis: redisOk });
    });
    publicRoutes.use(authRoutes(auth, authGuard));

    const app = createHttpApp({
      corsOrigins: config.corsOrigins,
      https: config.https,
      cspConnectSrc: config.cspConnectSrc,
      cspImgSrc: config.cspImgSrc,
      trustProxy: config.trustProxy,
      publicRoutes,
      chatRouter: chat.router,
      requireAuth: authGuard,
      privateRoutes: [hostRoutes({ users, follows, works, tasks, achievements })],
      staticDir: options.staticDir === null ? undefined : (options.staticDir ?? FRONTEND_DIST),
      logger,
    });

    const http = createServer(app);
    // The demo lets the module create its Socket.IO server (with the Redis adapter when set).
    const io = chat.attach(http);
    // The only use of the module's internals here, and not by the demo itself: handed out on the
    // App for the project's own tests and benchmarks (they reach into the module's database,
    // bus and services). Everything the demo does goes through the public API above.
    const forTests = chat.internals;

    let closing: Promise<void> | null = null;
    return {
      config,
      db: forTests.db,
      hostDb,
      chat,
      http,
      io,
      bus: forTests.bus,
      tokens,
      logger,
      nodeId,
      services: { messages: forTests.services.messages, notifications: createHostNotifications(chat), unread: forTests.services.unread },
      seed,
      listen(port = config.port, host = config.host) {
        return new Promise((resolve, reject) => {
          http.once('error', reject);
          http.listen(port, host, () => {
            const { port: p } = http.address() as AddressInfo;
            resolve(`http://localhost:${p}`);
          });
        });
      },
      close() {
        closing ??= (async () => {
          // The module closes its own Socket.IO server, waiting for its background work.
          http.closeAllConnections?.();
          for (const c of cleanups) await c().catch((err: unknown) => logger.error('shutdown step failed', err));
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const c of cleanups) await c().catch(() => {});
    throw err;
  }
}
