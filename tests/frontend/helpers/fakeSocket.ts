// A stand-in for a socket.io-client Socket, driven by the test: it records what the app emits,
// lets the test answer acks, push server events and drop/restore the connection.
import type { ClientToServerEvents, ServerToClientEvents } from '@shared/events';
import type { SocketAuth, SocketLike } from '@/friend-chat/socket/client';

type Listener = (...args: never[]) => void;
type Ack = (answer: unknown) => void;

export interface Emitted<E extends keyof ClientToServerEvents = keyof ClientToServerEvents> {
  event: E;
  payload: Parameters<ClientToServerEvents[E]>[0];
  ack?: Ack;
}

type Responder<E extends keyof ClientToServerEvents> = (payload: Parameters<ClientToServerEvents[E]>[0]) => unknown;

export class FakeSocket implements SocketLike {
  connected = false;
  active = false;
  readonly emitted: Emitted[] = [];
  /** The token each connection sent, read through the client's auth callback. */
  readonly tokens: (string | null)[] = [];
  /** The URL the client asked for (undefined = the page's origin). */
  url: string | undefined;
  private auth: SocketAuth | null = null;
  private listeners = new Map<string, Set<Listener>>();
  private responders = new Map<string, (payload: never) => unknown>();

  constructor() {
    // What a quiet server answers unless a test says otherwise.
    this.respond('chat:sync', (p) => ({ ok: true, messages: [], nextCursor: p.after ?? 'cursor-0', hasMore: false }));
    this.respond('presence:list', () => ({ ok: true, online: [] }));
    this.respond('chat:read', () => ({ ok: true, updated: 1 }));
  }

  on(event: string, listener: Listener): this {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): this {
    const [payload, ack] = args as [never, Ack | undefined];
    this.emitted.push({ event: event as keyof ClientToServerEvents, payload, ack });
    const responder = this.responders.get(event);
    if (responder && ack) ack(responder(payload));
    return this;
  }

  connect(): this {
    this.active = true;
    return this;
  }

  disconnect(): this {
    this.active = false;
    this.connected = false;
    return this;
  }

  removeAllListeners(): this {
    this.listeners.clear();
    return this;
  }

  /** What the socket factory hands over: the auth callback and the URL. */
  attach(auth: SocketAuth, url: string | undefined): this {
    this.auth = auth;
    this.url = url;
    return this;
  }

  // ---- test controls ----
  /** Auto-answer every `event` ack with what `fn` returns (acks stay pending for events without one). */
  respond<E extends keyof ClientToServerEvents>(event: E, fn: Responder<E> | null): void {
    if (fn) this.responders.set(event, fn as (payload: never) => unknown);
    else this.responders.delete(event);
  }

  /** A (re)connection: like socket.io-client, it asks the auth callback for the token first. */
  serverConnect(): void {
    this.auth?.((data) => this.tokens.push(data.token));
    this.connected = true;
    this.fire('connect');
  }

  /** The network went away; socket.io-client keeps reconnecting by itself. */
  dropConnection(): void {
    this.connected = false;
    this.fire('disconnect', 'transport close');
  }

  /** The server closed the socket on purpose; socket.io-client leaves reconnecting to the app. */
  serverDisconnect(): void {
    this.connected = false;
    this.active = false;
    this.fire('disconnect', 'io server disconnect');
  }

  /** A connection attempt failed at the transport level and socket.io-client gave up. */
  failAttempt(): void {
    this.active = false;
    this.fire('connect_error', new Error('xhr poll error'));
  }

  serverEmit<E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>): void {
    this.fire(event, ...args);
  }

  fire(event: string, ...args: unknown[]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) (l as (...a: unknown[]) => void)(...args);
  }

  emitsOf<E extends keyof ClientToServerEvents>(event: E): Emitted<E>[] {
    return this.emitted.filter((e): e is Emitted<E> => e.event === event);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
