// friend-chat/server: the module's public entry (DESIGN.md, "Module boundary"). A host gives it
// a database, its identity/users/friends ports and optionally Redis; it gets a router to mount,
// a way onto its Socket.IO server, and calls to notify its users.
//
//   const chat = await createFriendChat({ database: { url }, identify, users, friends })
//   app.use('/api', chat.router)
//   chat.attach(io)                      // or chat.attach(httpServer)
//   await chat.notify(userId, { type: 'SYSTEM_LIKE', content: '…', metadata: { … } })
//   await chat.send({ from: botId, to: userId, content: 'Welcome!' })   // as a user would
//   await chat.userDeleted(userId)       // after the host deleted one of its users
import type { Server as HttpServer } from 'node:http';
import express, { Router, type ErrorRequestHandler } from 'express';
import { Server as SocketIoServer } from 'socket.io';
import { z } from 'zod';
import { createAdapter } from '@socket.io/redis-adapter';
import type { PGlite } from '@electric-sql/pglite';
import { openDatabase, type Database } from './db/database.ts';
import { migrate, MIGRATIONS_DIR, readMigrations } from './db/migrate.ts';
import { createLogger, type Logger } from './logger.ts';
import { AppError, errorBody, toAppError } from './http/errors.ts';
import { requireIdentity } from './http/identity.ts';
import { notFound } from './http/errors.ts';
import { parse, userId as UserId, uuid } from './http/validate.ts';
import { createBus, type Bus, type IoServer } from './realtime/bus.ts';
import { createEventBudget } from './realtime/eventBudget.ts';
import type { TrustedProxy } from './realtime/handshake.ts';
import { createMemoryPresence, createRedisPresence } from './realtime/presence.ts';
import { createMemoryRateLimiter, createRedisRateLimiter } from './realtime/rateLimiter.ts';
import { createLastSeenStore, createPresenceService, type PresenceService } from './realtime/presenceService.ts';
import { openRedis, type RedisConnections } from './realtime/redis.ts';
import { createPushMarks } from './realtime/pushMarks.ts';
import { recoverMissedPushes } from './realtime/resync.ts';
import { watchAdapterReach } from './realtime/adapterReach.ts';
import { adapterLinksNodes, attachChat, createSocketServer, type ChatNamespace } from './realtime/socketServer.ts';
import { createUnreadService, type UnreadService } from './chat/unread.ts';
import { createMessageService, type MessageService } from './chat/service.ts';
import { createFriendCache } from './chat/friendCache.ts';
import { createFriendList } from './chat/friends.ts';
import { createDeletedUsers, forgetUser } from './chat/deletedUsers.ts';
import { ClientId, Content } from './chat/schemas.ts';
import { chatRoutes } from './chat/routes.ts';
import { createSearchService, searchRoutes, type SearchService } from './chat/search.ts';
import { chatHandlers, registerChatHandlers } from './chat/socket.ts';
import { createLifecycle } from './chat/lifecycle.ts';
import { lifecycleRoutes } from './chat/lifecycleRoutes.ts';
import { createRichMessages } from './chat/rich.ts';
import { createHookOutbox, type HookOutbox, type OutboxOptions } from './chat/outbox.ts';
import { toContentFilter, type ContentFilter, type ContentFilterOption } from './chat/contentFilter.ts';
import { createUploads, type UploadLimits, type UploadsOption } from './uploads/index.ts';
import type { AttachmentService } from './uploads/service.ts';
import { createNotificationService, type NotificationDraft, type NotificationService } from './notifications/service.ts';
import { createGroupRooms } from './groups/rooms.ts';
import { createGroupService, type GroupService } from './groups/service.ts';
import { createMuteService, type MuteService } from './groups/mutes.ts';
import { groupRoutes } from './groups/routes.ts';
import { registerGroupHandlers } from './groups/socket.ts';
import { createNotificationInbox } from './notifications/inbox.ts';
import { notificationRoutes } from './notifications/routes.ts';
import type { ChatHooks, FriendGraph, Identify, UserDirectory } from './ports.ts';
import type { ChatWireMessage, WireMessage } from './realtime/events.ts';

export type { ChatHooks, ChatUser, FriendGraph, Identify, Session, UserDirectory } from './ports.ts';
export type { BuiltInNotificationDraft, HostTransaction, NotificationDraft } from './notifications/service.ts';
export { NOTIFICATION_TYPE } from './notifications/service.ts';
export type * from './realtime/events.ts';
export type { Logger } from './logger.ts';
export type { TrustedProxy } from './realtime/handshake.ts';

export interface FriendChatOptions {
  /**
   * The module's tables only: its own pool on `url`, or the host's PGlite instance.
   * `statementTimeoutMs` (PostgreSQL; default 30,000, 0: none): the longest a statement of the
   * module may run before PostgreSQL cancels it (migrations run without it; PGlite has none).
   * `preparedStatements` (PostgreSQL; default true): the statements every message runs are named
   * prepared statements, planned once per connection; false behind a pooler that cannot keep them
   * (PgBouncer in transaction mode before 1.21).
   */
  database: { url: string; statementTimeoutMs?: number; preparedStatements?: boolean } | { pglite: PGlite };
  /** PostgreSQL schema holding every table of the module and its migration record (default `friendchat`). */
  schema?: string;
  identify: Identify;
  users: UserDirectory;
  friends: FriendGraph;
  /** The host's reactions to chat events: `messageSent`, run after the answer, at least once (see ChatHooks). */
  hooks?: ChatHooks;
  /**
   * How `hooks.messageSent` is run: `concurrency` (hooks at once on this node, 4), `leaseMs`
   * (60,000), `pollIntervalMs` (5,000), `maxAttempts` (10), `retryBaseMs` (1,000, doubling up
   * to 5 min), `maxQueued` (10,000). See docs/embedding.md.
   */
  outbox?: OutboxOptions;
  /**
   * Presence and rate limits shared across nodes; the adapter of a Socket.IO server the module
   * creates. Given, the module runs as one of several nodes: it tells the other nodes about
   * friendship changes and closes sockets there, through the Socket.IO adapter. Not given, it
   * is the only node.
   */
  redis?: { url: string; prefix?: string };
  /**
   * Where uploads (images, files, voice) are stored: a directory (default `./data/uploads`,
   * relative to the working directory), or S3-compatible object storage for several nodes
   * (`{ s3: { bucket, endpoint?, region?, accessKeyId?, secretAccessKey?, forcePathStyle?, prefix? } }`).
   * Also: `publicPath` (where clients reach the router, default `/api`), `urlSecret`,
   * `imageConcurrency`, `maxConcurrent`, `maxPerUser`, `cleanupIntervalMs`. See docs/embedding.md.
   */
  uploads?: UploadsOption;
  limits?: UploadLimits & {
    /** Chat messages per second per user, burst the same (default 5). */
    chatRatePerSecond?: number;
    /** Socket events one socket may send per second before it is cut off (default 100). */
    socketEventsPerSecond?: number;
    /** Largest JSON body the router takes (default 64kb). */
    jsonBody?: string;
    /** How long a node's presence entries live in Redis without a refresh (default 60 s). */
    presenceTtlSeconds?: number;
    /**
     * With `redis`: how often a node compares the chat nodes live in Redis with the servers its
     * Socket.IO adapter reaches (`serverCount()`); a shortfall lasting four rounds is logged as an
     * error (default 30 s).
     */
    adapterCheckSeconds?: number;
    /** Sockets (tabs) one user may hold at once, all nodes; one more closes the oldest, telling it why (default 10). */
    socketsPerUser?: number;
    /** Sockets one client address may hold at once, all nodes; handshakes beyond are refused "too_many_connections" (default 50). */
    socketsPerAddress?: number;
    /**
     * Socket requests per user per second, all the user's sockets and nodes together: chat:sync,
     * chat:read, presence:list, chat:typing (chat:send has chatRatePerSecond). Beyond it the ack
     * answers RATE_LIMITED (default 20).
     */
    socketEventsPerUserPerSecond?: number;
    /** Members a group may have at most (default 500); one more answers GROUP_FULL. */
    groupMaxMembers?: number;
    /** How long after sending its sender may edit a message (default 900 s); later answers EDIT_WINDOW_CLOSED. */
    editWindowSeconds?: number;
  };
  /**
   * Which hops are proxies whose X-Forwarded-For / X-Forwarded-Host the socket handshake
   * believes (the client's address for socketsPerAddress, the host for the Origin check):
   * `(address, hop) => boolean`, hop 0 being the TCP peer. An Express host passes its own rule,
   * `app.get('trust proxy fn')`, so sockets see the client HTTP sees. Default: loopback peers.
   */
  trustedProxy?: TrustedProxy;
  /**
   * Origins besides the server's own that may open a socket (default same origin only): the CORS
   * origins of a Socket.IO server the module creates (`attach(httpServer)`), and the handshake
   * Origin check on any server. Handshakes without an Origin (not a browser) pass.
   */
  corsOrigins?: string[];
  /**
   * Listed words in what users write (messages, captions, location labels, group names; also
   * `send`) are masked, each character one `*` (`mode: 'mask'`, the default), or refused with 422
   * CONTENT_REJECTED (`mode: 'reject'`), before anything is stored: `{ words, mode? }` (see
   * `readWordList` for a file), or `{ apply(text) }`, a filter of the host's own that returns the
   * text to store or throws (an `AppError` CONTENT_REJECTED, say). Default: none.
   */
  contentFilter?: ContentFilterOption;
  /** Apply the module's migrations on start (default true). */
  migrate?: boolean;
  logger?: Logger;
  /** Names this node in Redis presence entries (default random). */
  nodeId?: string;
}

export interface FriendChat {
  /** /messages…, /friends, /messages/system…, /groups…, /mutes…: mount under the host's API prefix. Brings its own body parsing and error handler. */
  router: Router;
  /**
   * The module's auth and handlers on the host's Socket.IO server (namespace default '/'), whose
   * adapter carries cross-node emits; or, given an HTTP server, on a Socket.IO server of its own.
   * Returns the server. With `redis` the host's adapter must link the nodes (the Redis adapter,
   * or any that implements `serverSideEmit`); otherwise attach throws.
   */
  attach(target: IoServer | SocketIoServer | HttpServer, opts?: { namespace?: string }): IoServer;
  /**
   * Sends a chat message as user `from`, for the host's own code (a bot, a welcome message, an
   * import, a demo seed): the rules of a user's send (friends only, as the host's `friends` port
   * answers; content trimmed, 1–2000 characters, through the content filter; idempotent on
   * `clientId`), the same pushes and the same `messageSent` hook. Not counted against the user's
   * rate limit. Refusals throw an `AppError`: VALIDATION, NOT_FOUND (`from` or `to` unknown, or
   * `replyToId` not a message of their conversation), NOT_FRIENDS, CONFLICT, CONTENT_REJECTED.
   * `replyToId` makes it a reply.
   */
  send(input: { from: string; to: string; content: string; clientId?: string; replyToId?: string }): Promise<{ message: ChatWireMessage; created: boolean }>;
  /** The content filter of `contentFilter` (none: text passes unchanged), for the host's own text too. */
  contentFilter: ContentFilter;
  /** Marks what `peerId` sent `by` as read, as `by` reading it would (receipts and counts pushed). */
  markRead(input: { by: string; peerId: string }): Promise<{ updated: number }>;
  notify(userId: string, draft: NotificationDraft): Promise<WireMessage>;
  /** The same draft to many users. */
  notifyMany(userIds: string[], draft: NotificationDraft): Promise<WireMessage[]>;
  /** A draft per user, all stored in one go and then pushed (a bad draft or unknown user: nothing stored). */
  notifyEach(items: { userId: string; draft: NotificationDraft }[]): Promise<WireMessage[]>;
  notifications: Pick<NotificationService, 'store' | 'publish' | 'transaction' | 'sentSince'>;
  /** The host tells the module a friendship started or ended; resolves once every node dropped its cached answer. */
  friendsChanged(a: string, b: string): Promise<void>;
  /**
   * The host deleted one of its users (call it after the user is gone from `users.byIds`): their
   * sockets close on every node (`session:closed` `user_deleted`), and what the module stores of
   * them goes: notifications, lastSeenAt, recalled messages, uploads they never sent. Their
   * conversations stay with the other party (uploads too), the user shown as a placeholder
   * (`deleted: true`) under a new id, unless `messages: 'delete'`, which deletes every chat
   * message to or from them (and, with the cleanup job, their uploads).
   */
  userDeleted(userId: string, opts?: { messages?: 'keep' | 'delete' }): Promise<void>;
  /** true when the database (and Redis, when configured) answer. */
  health(): Promise<{ db: boolean; redis: boolean | null }>;
  close(): Promise<void>;
  /** Internal parts, for the project's own tests and benchmarks; may change without notice. */
  internals: {
    db: Database;
    bus: Bus;
    io: () => IoServer | null;
    services: {
      messages: MessageService;
      notifications: NotificationService;
      unread: UnreadService;
      presence: PresenceService;
      groups: GroupService;
      mutes: MuteService;
      attachments: AttachmentService;
      search: SearchService;
    };
    /** The messageSent outbox (null without the hook). */
    outbox: HookOutbox | null;
  };
}

export async function createFriendChat(options: FriendChatOptions): Promise<FriendChat> {
  const logger = options.logger ?? createLogger('error');
  const onError = (err: unknown) => logger.error('friend-chat: background task failed', err);
  const limits = options.limits ?? {};
  const nodeId = options.nodeId ?? Math.random().toString(36).slice(2, 10);
  const schema = options.schema ?? 'friendchat';
  // Before anything opens: a bad word list fails here, with nothing to close.
  const filter = toContentFilter(options.contentFilter);

  const db = await openDatabase(options.database, { schema });
  const cleanups: (() => Promise<unknown>)[] = [() => db.close()];
  try {
    if (options.migrate !== false) await migrate(db, { schema, migrations: readMigrations(MIGRATIONS_DIR), log: (l) => logger.info(l) });

    // Redis: cross-node emits, presence and rate limits. Unset → in-process equivalents.
    let redis: RedisConnections | null = null;
    const prefix = options.redis?.prefix ?? 'fc:';
    if (options.redis) {
      redis = await openRedis(options.redis.url, logger);
      const r = redis;
      cleanups.unshift(() => r.close());
    }
    // While Redis is away, presence and rate limits fall back to this node's own view.
    const onRedisError = (err: unknown) => logger.debug(`redis fallback: ${err instanceof Error ? err.message : String(err)}`);
    const redisOptions = { prefix, onError: onRedisError };
    const rate = limits.chatRatePerSecond ?? 5;

    const bus = createBus(onError);
    const presenceStore = redis
      ? createRedisPresence(redis.store, { ...redisOptions, nodeId, ttlSeconds: limits.presenceTtlSeconds ?? 60 })
      : createMemoryPresence();
    cleanups.unshift(() => presenceStore.close());
    // The same bookkeeping, by client address instead of user: sockets per address.
    const addressStore = redis
      ? createRedisPresence(redis.store, { ...redisOptions, prefix: `${prefix}address-`, nodeId, ttlSeconds: limits.presenceTtlSeconds ?? 60 })
      : createMemoryPresence();
    cleanups.unshift(() => addressStore.close());
    const eventBudget = createEventBudget({ perSecond: limits.socketEventsPerUserPerSecond ?? 20, redis: redis?.store, ...redisOptions });
    const rateLimiter = redis ? createRedisRateLimiter(redis.store, rate, redisOptions) : createMemoryRateLimiter(rate);

    // Friendship is asked on every send and typing event: cached, invalidated on every
    // friendsChanged here and on the other nodes through the adapter.
    const deletedUsers = createDeletedUsers();
    const friends = createFriendCache(options.friends, { isDeleted: deletedUsers.has });
    bus.onFriendsChanged((ids) => friends.invalidate(ids));
    const users = options.users;
    const unread = createUnreadService(db, bus, onError);
    cleanups.unshift(async () => unread.close());
    const notifications = createNotificationService(db, bus, unread, users, onError);
    const lastSeen = createLastSeenStore(db, deletedUsers.has);
    const presence = createPresenceService(presenceStore, bus, friends, lastSeen, onError);
    cleanups.unshift(async () => presence.close());
    // Uploads: blob store, signed urls, the periodic deletion of unsent ones.
    const uploads = await createUploads({ db, option: options.uploads, limits, identify: options.identify, onError });
    cleanups.unshift(() => uploads.close());
    // Delivered, edits, replies, reactions; every message on the wire goes through its `present`.
    const lifecycle = createLifecycle({ db, bus, present: uploads.attachments.present, editWindowSeconds: limits.editWindowSeconds, filterContent: (text) => filter.apply(text), onError });
    cleanups.unshift(() => lifecycle.close());
    // The host's messageSent hook, run after the answer from rows stored with the messages.
    const messageSent = options.hooks?.messageSent;
    const outbox = messageSent
      ? createHookOutbox({
          db,
          hook: (m) => messageSent.call(options.hooks, m),
          wants: options.hooks?.wantsMessageSent?.bind(options.hooks),
          present: lifecycle.present,
          logger,
          options: options.outbox,
        })
      : null;
    if (outbox) {
      outbox.start();
      cleanups.unshift(() => outbox.close());
    }
    const rich = createRichMessages(db, uploads.attachments, { outboxLeaseMs: outbox?.leaseMs ?? null });
    const messages = createMessageService({
      db,
      bus,
      friends,
      users,
      rateLimiter,
      unread,
      outbox,
      onError,
      rich,
      attachments: { present: lifecycle.present, discard: uploads.attachments.discard },
      lifecycle,
      filter,
    });
    const inbox = createNotificationInbox(db.prisma, unread);
    const friendList = createFriendList({ friends, users, presence, lastSeen, unread });
    const groupRooms = createGroupRooms(db, onError);
    const groups = createGroupService({
      db,
      bus,
      friends,
      users,
      unread,
      rooms: groupRooms,
      maxMembers: limits.groupMaxMembers ?? 500,
      present: lifecycle.present,
      filter,
    });
    const mutes = createMuteService({ db, users, unread });
    const search = createSearchService(db, uploads.attachments.present);

    const router = Router();
    router.use(['/messages', '/friends', '/groups', '/mutes'], express.json({ limit: limits.jsonBody ?? '64kb' }), requireIdentity(options.identify));
    router.use(notificationRoutes(inbox), searchRoutes(search), lifecycleRoutes(lifecycle), chatRoutes(messages, unread, friendList, groups), groupRoutes(groups, mutes, messages));
    router.use(uploads.router);
    const onHttpError: ErrorRequestHandler = (err, req, res, _next) => {
      const e = toAppError(err);
      if (e.code === 'INTERNAL') logger.error(`${req.method} ${req.originalUrl}`, err);
      if (res.headersSent) return;
      // Answered before its body was read (an upload refused early): read no more of it, and
      // close the connection once the answer is out rather than drain the rest.
      if (!req.complete) {
        req.pause();
        res.setHeader('Connection', 'close');
      }
      if (e.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(e.retryAfterSeconds));
      res.status(e.status).json(errorBody(e));
    };
    router.use(onHttpError);

    // Background work still running at shutdown is awaited before the database closes.
    const background = new Set<Promise<unknown>>();
    const track = (work: Promise<unknown>) => {
      background.add(work);
      void work.finally(() => background.delete(work));
    };

    let io: IoServer | null = null;
    let nsp: ChatNamespace | null = null;
    let ownIo = false;
    let closing: Promise<void> | null = null;

    // A user the host deleted, forgotten on this node: left out of friendship answers, their
    // sockets here closed. Each node does it for itself on `users:deleted`.
    const forgetHere = (userIds: string[]) => {
      deletedUsers.add(userIds);
      friends.invalidate(userIds);
      for (const id of userIds) {
        nsp?.to(id).local.emit('session:closed', { reason: 'user_deleted' });
        nsp?.in(id).local.disconnectSockets(true);
      }
    };
    bus.onUsersDeleted(forgetHere);

    const SendInput = z.strictObject({ from: UserId, to: UserId, content: Content, clientId: ClientId.optional(), replyToId: uuid.optional() });
    const ReadInput = z.strictObject({ by: UserId, peerId: UserId });
    const userExists = async (id: string) => (await users.byIds([id])).some((u) => u.id === id);
    return {
      router,
      attach(target, opts = {}) {
        if (io) throw new Error('friend-chat: attach() was already called');
        // Several nodes exactly when the host gave Redis: presence and limits are shared only
        // then, and only then does anything need telling to other nodes.
        const multiNode = redis !== null;
        const namespace = opts.namespace ?? '/';
        if (target instanceof SocketIoServer) {
          // The host's adapter carries the pushes between nodes: with `redis`, it must link them.
          if (multiNode && !adapterLinksNodes(target.of(namespace).adapter)) {
            throw new Error(
              `friend-chat: attach(io): \`redis\` is set, so this is one of several nodes, but the adapter of namespace ${JSON.stringify(namespace)} ` +
                'links no nodes (the in-memory one). Set io.adapter(createAdapter(…)) from @socket.io/redis-adapter (or another adapter that links nodes) first.',
            );
          }
          if (!multiNode && adapterLinksNodes(target.of(namespace).adapter)) {
            logger.error(
              'friend-chat: attach(io): the Socket.IO adapter links several nodes but `redis` is not set: presence, rate limits and socket counts stay per node. Give createFriendChat the same `redis`.',
            );
          }
          io = target as IoServer;
        } else {
          io = createSocketServer(target, { corsOrigins: options.corsOrigins ?? [], trustedProxy: options.trustedProxy });
          ownIo = true;
          if (redis) io.adapter(createAdapter(redis.pub, redis.sub, { key: `${prefix}socket.io` }));
        }
        nsp = io.of(namespace);
        const handlers = chatHandlers({ messages, lifecycle, groups, presence, friends, bus, budget: eventBudget, onError });
        attachChat(nsp, {
          identify: options.identify,
          presence,
          addresses: addressStore,
          // A server of the module's own checks the Origin in allowRequest; a host's, here.
          checkOrigin: ownIo ? undefined : { corsOrigins: options.corsOrigins ?? [] },
          trustedProxy: options.trustedProxy,
          maxSocketsPerUser: limits.socketsPerUser ?? 10,
          maxSocketsPerAddress: limits.socketsPerAddress ?? 50,
          multiNode,
          maxEventsPerSecond: limits.socketEventsPerSecond,
          register: (socket) => {
            registerGroupHandlers(socket, { rooms: groupRooms });
            registerChatHandlers(socket, handlers);
          },
          onError,
          track,
        });
        if (redis) {
          // What the adapter does, not what it is: a shortfall of servers it reaches is logged.
          const adapterOf = nsp;
          const reach = watchAdapterReach({
            store: redis.store,
            prefix,
            nodeId,
            namespace,
            serverCount: () => adapterOf.adapter.serverCount(),
            intervalMs: (limits.adapterCheckSeconds ?? 30) * 1000,
            warn: (m) => logger.error(m),
            recovered: (m) => logger.info(m),
            onError: onRedisError,
          });
          cleanups.unshift(() => reach.close());
          // Clients that missed pushes while Redis was away (or a publish failed) reconnect and sync.
          const recovery = recoverMissedPushes({
            nsp,
            redis,
            prefix,
            nodeId,
            adapterChannel: ownIo ? `${prefix}socket.io#${nsp.name}#` : null,
            logger,
            onError: onRedisError,
          });
          cleanups.unshift(async () => recovery.close());
        }
        // The module's own adapter: a send is answered once Redis took its publish (bus.ts).
        // Its pushes are marked as they go out, so that a resend of a message whose node died
        // before answering pushes it again if it never went out (pushMarks.ts).
        const own = ownIo && redis ? redis : null;
        bus.attach(nsp, { multiNode, published: own?.published, marks: own ? createPushMarks(own.pub, own.store, prefix, onRedisError) : undefined });
        // After attachChat: its handshake middlewares (auth) run before the group lookup.
        groupRooms.attach(nsp, { multiNode });
        return io;
      },
      async send(input) {
        const { from, to, content, clientId, replyToId } = parse(SendInput, input);
        if (!(await userExists(from))) throw notFound('User');
        const { message, created } = await messages.send({ from, to, content, clientId, replyToId, rateLimited: false });
        return { message: message as ChatWireMessage, created };
      },
      contentFilter: filter,
      async markRead(input) {
        const { by, peerId } = parse(ReadInput, input);
        if (!(await userExists(by))) throw notFound('User');
        return messages.markRead(by, peerId);
      },
      notify: (userId, draft) => notifications.notify(userId, draft),
      notifyMany: (userIds, draft) => notifications.notifyMany(userIds, draft),
      notifyEach: (items) => notifications.notifyEach(items),
      notifications: {
        store: notifications.store,
        publish: notifications.publish,
        transaction: notifications.transaction,
        sentSince: notifications.sentSince,
      },
      async friendsChanged(a, b) {
        friends.invalidate([a, b]);
        await bus.friendsChanged([a, b]);
      },
      async userDeleted(userId, opts = {}) {
        parse(UserId, userId);
        if (opts.messages !== undefined && opts.messages !== 'keep' && opts.messages !== 'delete') {
          throw new TypeError(`friend-chat: userDeleted: messages must be 'keep' or 'delete' (got ${JSON.stringify(opts.messages)})`);
        }
        // Every node first: no cached friendship lets a message reach them after this, and their
        // sockets close (their presence then stores nothing for them).
        forgetHere([userId]);
        await bus.usersDeleted([userId]);
        // An announcement of theirs still running here stores lastSeenAt: let it land first, so
        // that the deletion below removes it (a later one sees them deleted and stores nothing).
        await presence.settled(userId);
        // They leave their groups as any member would (ownership passes on, the others see the
        // notice, an emptied group is gone); forgetUser then anonymises what stays.
        for (const groupId of await groups.currentGroupIds(userId)) {
          await groups.removeMember(userId, groupId, userId).catch((err: unknown) => {
            if (!(err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'NOT_MEMBER'))) throw err;
          });
        }
        const recounted = await forgetUser(db, userId, { messages: opts.messages });
        await uploads.attachments.forgetUploader(userId);
        await unread.push(recounted);
      },
      async health() {
        const [dbOk, redisOk] = await Promise.all([db.ping(), redis ? redis.ping() : Promise.resolve(null)]);
        return { db: dbOk, redis: redisOk };
      },
      close() {
        closing ??= (async () => {
          if (io && ownIo) await new Promise<void>((resolve) => io!.close(() => resolve()));
          await Promise.race([Promise.allSettled([...background]), new Promise((r) => setTimeout(r, 5000))]);
          for (const c of cleanups) await c().catch(onError);
        })();
        return closing;
      },
      internals: {
        db,
        bus,
        io: () => io,
        services: { messages, notifications, unread, presence, groups, mutes, attachments: uploads.attachments, search },
        outbox,
      },
    };
  } catch (err) {
    for (const c of cleanups) await c().catch(() => {});
    throw err;
  }
}

// Tools for a host that answers in the module's error shape, or applies its own Prisma
// migrations the way the module does (the demo host uses both).
export { AppError, conflict, errorBody, forbidden, notFound, rateLimited, toAppError, validation } from './http/errors.ts';
export { idParam, limitQuery, parse, uuid } from './http/validate.ts';
export { createLogger } from './logger.ts';
export { createContentFilter, parseWordList, readWordList, type ContentFilter, type ContentFilterMode, type ContentFilterOption } from './chat/contentFilter.ts';
export { migrate, MigrationError, readMigrations, type Migration, type MigrateResult } from './db/migrate.ts';
export type { SqlSession } from './db/database.ts';
// One line for a message (a notification, a digest): "[Image]", "[Voice 0:12]", "[File] name", "[Location]".
export { formatDuration, messagePreview } from './realtime/preview.ts';
