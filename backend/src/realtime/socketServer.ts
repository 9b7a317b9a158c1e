// The Socket.IO server: handshake auth, one room per user, presence, flood control.
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { IoServer } from './bus.ts';
import type { PresenceService } from './presenceService.ts';

export interface SocketServerOptions {
  tokens: TokenService;
  presence: PresenceService;
  corsOrigins: string[];
  /** Registers the per-socket event handlers (the chat module's). */
  register: (socket: Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>) => void;
  /** Events one socket may send per second before it is disconnected. */
  maxEventsPerSecond?: number;
  onError?: (err: unknown) => void;
  /** Keeps background work (presence updates) so shutdown can wait for it. */
  track?: (work: Promise<unknown>) => void;
}

export function createSocketServer(http: HttpServer, opts: SocketServerOptions): IoServer {
  const io: IoServer = new Server(http, {
    // Payloads are small (a message is at most 2000 characters); cap what one packet may be.
    maxHttpBufferSize: 64 * 1024,
    cors: opts.corsOrigins.length ? { origin: opts.corsOrigins, credentials: true } : undefined,
    serveClient: false,
  });
  const onError = opts.onError ?? (() => {});
  const maxEvents = opts.maxEventsPerSecond ?? 100;

  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    try {
      if (typeof token !== 'string') throw new Error('no token');
      socket.data.userId = opts.tokens.verify(token);
      next();
    } catch {
      next(new Error('unauthorized'));
    }
  });

  io.on('connection', (socket) => {
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

  return io;
}
