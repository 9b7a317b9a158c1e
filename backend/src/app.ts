// Composition root: config → db → services → routes and socket handlers. Nothing reaches for
// a global, so a test builds a whole app on a fresh database with one call.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Config } from './config.ts';
import { openDatabase, withAdvisoryLock, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { createLogger, type Logger } from './logger.ts';
import { createTokenService, resolveJwtSecret, type TokenService } from './auth/tokens.ts';
import { requireAuth } from './auth/middleware.ts';
import { createAuthService } from './auth/service.ts';
import { createAuthLimits } from './auth/limits.ts';
import { createPasswordHasher } from './auth/passwords.ts';
import { authRoutes } from './auth/routes.ts';
import { createHttpApp } from './http/server.ts';
import { createBus, type Bus, type IoServer } from './realtime/bus.ts';
import { createMemoryPresence, createRedisPresence } from './realtime/presence.ts';
import { createMemoryRateLimiter, createRedisRateLimiter } from './realtime/rateLimiter.ts';
import { createPresenceService } from './realtime/presenceService.ts';
import { openRedis } from './realtime/redis.ts';
import { createSocketServer } from './realtime/socketServer.ts';
import { createUnreadService, type UnreadService } from './chat/unread.ts';
import { createMessageService, type MessageService } from './chat/service.ts';
import { chatRoutes } from './chat/routes.ts';
import { registerChatHandlers } from './chat/socket.ts';
import { createNotificationService, type NotificationService } from './notifications/service.ts';
import { createNotificationInbox } from './notifications/inbox.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { createAchievementService } from './host/achievements/service.ts';
import { createFollowService } from './host/follows/service.ts';
import { createFriendCache, type CachedFriendGraph } from './host/follows/friendCache.ts';
import { createFollowLimiter } from './host/follows/limiter.ts';
import { createTaskService } from './host/tasks/service.ts';
import { createUserService } from './host/users/service.ts';
import { createWorkService } from './host/works/service.ts';
import { hostRoutes } from './host/routes.ts';
import { seedDemo, STARTUP_LOCK_KEY } from './db/seed.ts';

export const FRONTEND_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/public');

export interface AppOptions {
  /** Apply migrations on start (default true). */
  migrate?: boolean;
  /** Seed the demo users: true, false, or 'if-empty' (default: config.seedDemo ?? 'if-empty'). */
  seed?: boolean | 'if-empty';
  staticDir?: string | null;
  /** Use an already opened database (tests that share one). */
  db?: Database;
}

export interface App {
  config: Config;
  db: Database;
  http: HttpServer;
  io: IoServer;
  bus: Bus;
  tokens: TokenService;
  logger: Logger;
  nodeId: string;
  services: { messages: MessageService; notifications: NotificationService; unread: UnreadService };
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = createLogger(config.logLevel);
  const onError = (err: unknown) => logger.error('background task failed', err);
  const nodeId = randomUUID().slice(0, 8);

  const db = options.db ?? (await openDatabase(config));
  const cleanups: (() => Promise<unknown>)[] = [];
  if (!options.db) cleanups.push(() => db.close());
  try {
    if (options.migrate !== false) await migrate(db, undefined, (l) => logger.info(l));

    // Redis: cross-node emits, presence and rate limits. Unset → in-process equivalents.
    const redis = config.redisUrl ? await openRedis(config.redisUrl, logger) : null;
    if (redis) cleanups.push(() => redis.close());
    // While Redis is away, presence and rate limits fall back to this node's own view.
    const onRedisError = (err: unknown) => logger.debug(`redis fallback: ${err instanceof Error ? err.message : String(err)}`);
    const redisOptions = { prefix: config.redisPrefix, onError: onRedisError };

    const { prisma } = db;
    const bus = createBus(onError);
    const secret = resolveJwtSecret(config.jwtSecret, db.dataDir);
    const tokens = createTokenService(secret, config.jwtExpiresIn);
    const presenceStore = redis
      ? createRedisPresence(redis.store, { ...redisOptions, nodeId, ttlSeconds: config.presenceTtlSeconds })
      : createMemoryPresence();
    cleanups.unshift(() => presenceStore.close());
    const rateLimiter = redis
      ? createRedisRateLimiter(redis.store, config.chatRateLimit, redisOptions)
      : createMemoryRateLimiter(config.chatRateLimit);
    const authLimits = createAuthLimits(config, redis?.store ?? null, redisOptions);
    // bcrypt in worker threads; closed after the server stops taking requests.
    const passwords = createPasswordHasher({ rounds: config.bcryptRounds, threads: config.passwordHashThreads, queue: config.passwordHashQueue });
    cleanups.unshift(() => passwords.close());

    const unread = createUnreadService(db, bus, onError);
    const notifications = createNotificationService(db, bus, unread, onError);
    const achievements = createAchievementService(prisma, notifications);
    const users = createUserService(prisma);
    // Friendship is asked on every send and typing event: cached, invalidated here on every
    // follow/unfollow and on the other nodes through the adapter.
    let friendCache: CachedFriendGraph | null = null;
    const followLimiter = createFollowLimiter(config.followRateLimit, redis ? { client: redis.store, prefix: config.redisPrefix } : undefined);
    const follows = createFollowService(
      prisma,
      notifications,
      achievements,
      (ids) => {
        friendCache?.invalidate(ids);
        return bus.friendsChanged(ids);
      },
      followLimiter,
    );
    friendCache = createFriendCache(follows);
    const friends = friendCache;
    bus.onFriendsChanged((ids) => friends.invalidate(ids));
    const works = createWorkService(prisma, notifications, achievements);
    const tasks = createTaskService(prisma, notifications, achievements);
    const presence = createPresenceService(presenceStore, bus, friends, users, onError);
    const messages = createMessageService({ db, bus, friends, rateLimiter, unread, achievements, notifications });
    const inbox = createNotificationInbox(prisma, unread);
    const auth = createAuthService({ prisma, tokens, passwords, limits: authLimits });

    // One node at a time: nodes started together on an empty database would all seed it.
    const seed = options.seed ?? config.seedDemo ?? 'if-empty';
    await withAdvisoryLock(db, STARTUP_LOCK_KEY, async () => {
      await achievements.ensureCatalogue();
      await tasks.ensureCatalogue();
      if (seed === false) return;
      const created = await seedDemo(prisma, { onlyIfEmpty: seed === 'if-empty', hashPassword: passwords.hash });
      if (created) logger.info('seeded demo users alice, bob, carol (password: password123)');
    });

    const authGuard = requireAuth(tokens);
    const publicRoutes = Router();
    publicRoutes.get('/health', async (_req, res) => {
      const dbOk = await db.ping();
      const redisOk = redis ? await redis.ping() : null;
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
      requireAuth: authGuard,
      privateRoutes: [
        notificationRoutes(inbox),
        chatRoutes(messages, unread),
        hostRoutes({ prisma, users, follows, works, tasks, achievements, presence, unread }),
      ],
      staticDir: options.staticDir === null ? undefined : (options.staticDir ?? FRONTEND_DIST),
      logger,
    });

    // Background work still running at shutdown is awaited before the database closes.
    const background = new Set<Promise<unknown>>();
    const track = (work: Promise<unknown>) => {
      background.add(work);
      void work.finally(() => background.delete(work));
    };

    const http = createServer(app);
    const io = createSocketServer(http, {
      tokens,
      presence,
      corsOrigins: config.corsOrigins,
      register: (socket) => registerChatHandlers(socket, { messages, presence, friends, bus, onError }),
      onError,
      track,
    });
    if (redis) io.adapter(createAdapter(redis.pub, redis.sub, { key: `${config.redisPrefix}socket.io` }));
    bus.attach(io, { multiNode: redis !== null });

    let closing: Promise<void> | null = null;
    return {
      config,
      db,
      http,
      io,
      bus,
      tokens,
      logger,
      nodeId,
      services: { messages, notifications, unread },
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
          await new Promise<void>((resolve) => io.close(() => resolve()));
          http.closeAllConnections?.();
          await Promise.race([Promise.allSettled([...background]), new Promise((r) => setTimeout(r, 5000))]);
          for (const c of cleanups) await c().catch(onError);
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const c of cleanups) await c().catch(() => {});
    throw err;
  }
}
