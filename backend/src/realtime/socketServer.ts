// The module's Socket.IO side: handshake checks (origin, token through the host's `identify`,
// address), one room per user, presence, and the bounds on what one user or address may hold:
// sockets per user and per address across nodes, events per socket, and a socket's life no
// longer than its session's. It runs on one namespace of a Socket.IO server: the host's own
// (`chat.attach(io, { namespace })`, beside the host's handlers and through its adapter) or
// one the module creates on the host's HTTP server (`chat.attach(httpServer)`).
import type { Server as HttpServer } from 'node:http';
import { EventEmitter } from 'node:events';
import { Server, type Namespace, type Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SessionClosedReason, SocketData } from './events.ts';
import type { IoServer } from './bus.ts';
import type { Presence } from './presence.ts';
import type { PresenceService } from './presenceService.ts';
import { toSession, type Identify } from '../ports.ts';
import { clientAddress, loopback, originAllowed, type TrustedProxy } from './handshake.ts';

export type ChatNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface ChatSocketOptions {
  identify: Identify;
  presence: PresenceService;
  /** Sockets by client address (on every node when it is Redis-backed). */
  addresses: Presence;
  /**
   * Check the handshake's Origin here (against `corsOrigins`): on a host's Socket.IO server,
   * which the module does not configure. A server of the module's own checks it in
   * `allowRequest` instead (createSocketServer), for every transport.
   */
  checkOrigin?: { corsOrigins: readonly string[] };
  /** Which hops' X-Forwarded-* headers are believed (default: loopback peers). */
  trustedProxy?: TrustedProxy;
  /** Sockets one user may hold at once on all nodes; a newer one closes the oldest. */
  maxSocketsPerUser: number;
  /** Sockets one address may hold at once on all nodes; handshakes beyond are refused. */
  maxSocketsPerAddress: number;
  /** Whether an adapter links this namespace to other nodes (to reach their sockets). */
  multiNode: boolean;
  /** Registers the per-socket event handlers (the chat module's). */
  register: (socket: ChatSocket) => void;
  /** Events one socket may send per second before it is disconnected. */
  maxEventsPerSecond?: number;
  onError?: (err: unknown) => void;
  /** Keeps background work (presence updates) so shutdown can wait for it. */
  track?: (work: Promise<unknown>) => void;
}

/** A Socket.IO server of the module's own on the host's HTTP server. */
export function createSocketServer(http: HttpServer, opts: { corsOrigins: string[]; trustedProxy?: TrustedProxy }): IoServer {
  const trusted = opts.trustedProxy ?? loopback;
  return new Server(http, {
    // Payloads are small (a message is at most 2000 characters); cap what one packet may be.
    maxHttpBufferSize: 64 * 1024,
    cors: opts.corsOrigins.length ? { origin: opts.corsOrigins, credentials: true } : undefined,
    // Browsers do not apply CORS to WebSockets: the Origin is checked here, for every transport.
    allowRequest: (req, callback) => callback(null, originAllowed(req, opts.corsOrigins, trusted)),
    serveClient: false,
  });
}

/**
 * Whether a namespace's Socket.IO adapter reaches other nodes. The in-memory `Adapter` (and its
 * `SessionAwareAdapter`) only warns in `serverSideEmit`, which it defines right above
 * EventEmitter; every adapter that links nodes (Redis, sharded Redis, cluster, Postgres, …)
 * overrides it. Read from the prototype chain, not a class name or identity: a host's subclass
 * of the in-memory adapter, or its own copy of socket.io-adapter, answers the same. This is what
 * the adapter is; what it does (how many servers it reaches) is checked while running, in
 * adapterReach.ts.
 */
export function adapterLinksNodes(adapter: object): boolean {
  for (let proto = Object.getPrototypeOf(adapter); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if (Object.prototype.hasOwnProperty.call(proto, 'serverSideEmit')) return Object.getPrototypeOf(proto) !== EventEmitter.prototype;
  }
  return false;
}

/** setTimeout fires at once for delays beyond this (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Adds the module's auth and handlers to a namespace (sockets the host handles too keep working). */
export function attachChat(nsp: ChatNamespace, opts: ChatSocketOptions): void {
  const onError = opts.onError ?? (() => {});
  const maxEvents = opts.maxEventsPerSecond ?? 100;
  const track = opts.track ?? (() => {});
  const trusted = opts.trustedProxy ?? loopback;
  /** When each socket's session ends (ms since the epoch), as identify told. */
  const sessionEnds = new WeakMap<ChatSocket, number>();
  /** Gives back a socket's place in its address's count; runs once however often it is called. */
  const addressRelease = new WeakMap<ChatSocket, () => void>();

  // From where (on a host's server): the Origin, as HTTP's CORS reads it.
  const originCheck = opts.checkOrigin;
  if (originCheck) {
    nsp.use((socket, next) => {
      if (originAllowed(socket.request, originCheck.corsOrigins, trusted)) next();
      else next(new Error('origin_not_allowed'));
    });
  }


  nsp.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    // The host's identify may be async, and may throw: either way, no user → "unauthorized".
    void (async () => {
      if (typeof token !== 'string' || token.length === 0) return null;
      return opts.identify(token);
    })()
      .then(
        (answer) => {
          const session = toSession(answer);
          if (!session) return next(new Error('unauthorized'));
          socket.data.userId = session.userId;
          if (session.expiresAt !== null) sessionEnds.set(socket, session.expiresAt);
          next();
        },
        () => next(new Error('unauthorized')),
      )
      .catch(onError);
  });

  // How many from one address: at most maxSocketsPerAddress. The count is taken and checked in
  // one step in the store, so a burst of handshakes cannot all slip through.
  nsp.use(async (socket, next) => {
    const address = clientAddress(socket.request, trusted);
    let count: number;
    try {
      count = await opts.addresses.connect(address, socket.id);
    } catch (err) {
      onError(err);
      return next(); // the limit is a safeguard; never lock everyone out over it
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      socket.conn.off('close', release);
      track(opts.addresses.disconnect(address, socket.id).catch(onError));
    };
    if (count > opts.maxSocketsPerAddress) {
      release();
      return next(new Error('too_many_connections'));
    }
    // A connection that closes before the socket is fully connected never sees 'disconnect'.
    socket.conn.once('close', release);
    addressRelease.set(socket, release);
    next();
  });

  /** Tells this node's socket why, then closes it. */
  function closeHere(socketId: string, reason: SessionClosedReason): void {
    const socket = nsp.sockets.get(socketId);
    if (!socket) return;
    socket.emit('session:closed', { reason });
    socket.disconnect(true);
  }

  // Another node asks to close sockets; those on this node are closed here, so the client gets
  // the reason before the disconnect (two separate adapter messages could arrive in either order).
  nsp.on('sockets:close', (socketIds: string[], reason: SessionClosedReason) => {
    for (const id of socketIds) closeHere(id, reason);
  });

  function close(socketIds: string[], reason: SessionClosedReason): void {
    const elsewhere = socketIds.filter((id) => !nsp.sockets.has(id));
    for (const id of socketIds) closeHere(id, reason);
    if (elsewhere.length > 0 && opts.multiNode) nsp.serverSideEmit('sockets:close', elsewhere, reason);
  }

  /**
   * The user holds more sockets than allowed: the oldest go. Each new socket looks once it is in
   * its room, so of sockets that connect together, the last to look sees them all; every socket
   * ranks by the same order (handshake time, then id), so they agree on which are the oldest.
   */
  async function closeOldest(userId: string): Promise<void> {
    const sockets = await nsp.in(userId).fetchSockets();
    const excess = sockets.length - opts.maxSocketsPerUser;
    if (excess <= 0) return;
    sockets.sort((a, b) => a.handshake.issued - b.handshake.issued || (a.id < b.id ? -1 : 1));
    close(
      sockets.slice(0, excess).map((s) => s.id),
      'too_many_sockets',
    );
  }

  /** Closes the socket when its session ends; answers how to cancel that. */
  function closeAtExpiry(socket: ChatSocket): () => void {
    const at = sessionEnds.get(socket);
    if (at === undefined) return () => {};
    let timer: NodeJS.Timeout | undefined;
    const wait = () => {
      const left = at - Date.now();
      if (left <= 0) closeHere(socket.id, 'token_expired');
      else timer = setTimeout(wait, Math.min(left, MAX_TIMER_MS));
    };
    wait();
    return () => clearTimeout(timer);
  }

  nsp.on('connection', (socket) => {
    const userId = socket.data.userId;
    void socket.join(userId);

    // Flood control: a socket that sends far more than any person could is cut off,
    // so it cannot starve everyone else on the node.
    let windowStart = Date.now();
    let count = 0;
    socket.use((_packet, next) => {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        count = 0;
      }
      if (++count > maxEvents) {
        socket.disconnect(true);
        return;
      }
      next();
    });

    opts.register(socket);
    const { sockets, announced } = opts.presence.connected(userId, socket.id);
    track(announced.catch(onError));
    track(sockets.then((n) => (n > opts.maxSocketsPerUser ? closeOldest(userId) : undefined)).catch(onError));
    const cancelExpiry = closeAtExpiry(socket);
    socket.on('disconnect', () => {
      cancelExpiry();
      addressRelease.get(socket)?.();
      track(opts.presence.disconnected(userId, socket.id).catch(onError));
    });
  });
}
