// The module's Socket.IO side: handshake auth through the host's `identify`, one room per user,
// presence, flood control. It runs on one namespace of a Socket.IO server: the host's own
// (`chat.attach(io, { namespace })`, beside the host's handlers and through its adapter) or
// one the module creates on the host's HTTP server (`chat.attach(httpServer)`).
import type { Server as HttpServer } from 'node:http';
import { Server, type Namespace, type Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events.ts';
import type { IoServer } from './bus.ts';
import type { PresenceService } from './presenceService.ts';
import type { Identify } from '../ports.ts';

export type ChatNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface ChatSocketOptions {
  identify: Identify;
  presence: PresenceService;
  /** Registers the per-socket event handlers (the chat module's). */
  register: (socket: ChatSocket) => void;
  /** Events one socket may send per second before it is disconnected. */
  maxEventsPerSecond?: number;
  onError?: (err: unknown) => void;
  /** Keeps background work (presence updates) so shutdown can wait for it. */
  track?: (work: Promise<unknown>) => void;
}

/** A Socket.IO server of the module's own on the host's HTTP server. */
export function createSocketServer(http: HttpServer, opts: { corsOrigins: string[] }): IoServer {
  return new Server(http, {
    // Payloads are small (a message is at most 2000 characters); cap what one packet may be.
    maxHttpBufferSize: 64 * 1024,
    cors: opts.corsOrigins.length ? { origin: opts.corsOrigins, credentials: true } : undefined,
    serveClient: false,
  });
}

/** Adds the module's auth and handlers to a namespace (sockets the host handles too keep working). */
export function attachChat(nsp: ChatNamespace, opts: ChatSocketOptions): void {
  const onError = opts.onError ?? (() => {});
  const maxEvents = opts.maxEventsPerSecond ?? 100;

  nsp.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    // The host's identify may be async, and may throw: either way, no user → "unauthorized".
    void (async () => {
      if (typeof token !== 'string' || token.length === 0) return null;
      return opts.identify(token);
    })()
      .then(
        (userId) => {
          if (typeof userId !== 'string' || userId.length < 1 || userId.length > 64) return next(new Error('unauthorized'));
          socket.data.userId = userId;
          next();
        },
        () => next(new Error('unauthorized')),
      )
      .catch(onError);
  });

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
    const track = opts.track ?? (() => {});
    track(opts.presence.connected(userId, socket.id).catch(onError));
    socket.on('disconnect', () => {
      track(opts.presence.disconnected(userId, socket.id).catch(onError));
    });
  });
}
