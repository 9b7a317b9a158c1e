// A small typed transport over socket.io-client: one socket per session, requests with an ack
// and a timeout, a queue for requests made while disconnected, and reconnect with backoff.
// It knows nothing about stores; socket/listeners.ts wires server events into them.
import { io } from 'socket.io-client';
import { ref } from 'vue';
import type { ClientToServerEvents, ErrorBody, SessionClosedReason } from '../wire';

/** The part of a socket.io-client Socket used here; tests pass a fake with this shape. */
export interface SocketLike {
  readonly connected: boolean;
  /** False when socket.io gave up on its own (server-side disconnect, middleware refusal). */
  readonly active: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
  removeAllListeners(): unknown;
}

/** socket.io-client calls it before every connection attempt, so each one sends a fresh token. */
export type SocketAuth = (cb: (data: { token: string | null }) => void) => void;
/** `url` undefined = this page's origin. */
export type SocketFactory = (auth: SocketAuth, url: string | undefined) => SocketLike;

export const RECONNECT_MIN_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;
export const ACK_TIMEOUT_MS = 10_000;

const defaultFactory: SocketFactory = (auth, url) => {
  const options = {
    autoConnect: false,
    auth,
    // socket.io's own exponential backoff (with jitter): 1 s growing to 30 s.
    reconnectionDelay: RECONNECT_MIN_MS,
    reconnectionDelayMax: RECONNECT_MAX_MS,
  };
  return (url === undefined ? io(options) : io(url, options)) as unknown as SocketLike;
};

let factory: SocketFactory = defaultFactory;

/** For tests: build sockets with `next` instead of socket.io-client. */
export function setSocketFactory(next: SocketFactory | null): void {
  factory = next ?? defaultFactory;
}

/**
 * `closed`: the server closed this tab's socket and it waits for the user (`closedReason` says
 * why: too many tabs, or a token the server refused and `getToken` could not renew); it stays
 * closed until `reconnect()` (or until the host signs the user out).
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';
export const connectionState = ref<ConnectionState>('idle');
/**
 * Why the server last closed this tab's socket on purpose, until the socket is connected again:
 * `too_many_sockets` (`session:closed`; state `closed`), `token_expired` (`session:closed`; state
 * `reconnecting`, with whatever token `getToken` answers now), `user_deleted`, or `unauthorized`
 * (the server refused the token `getToken` answered, e.g. an expired one that could not be
 * renewed; state `closed`, and the host's `onUnauthorized` was called).
 */
export type ClosedReason = SessionClosedReason | 'unauthorized';
export const closedReason = ref<ClosedReason | null>(null);

export class SocketRequestError extends Error {
  constructor(
    readonly code: ErrorBody['code'] | 'TIMEOUT' | 'CLOSED',
    message: string,
  ) {
    super(message);
    this.name = 'SocketRequestError';
  }
}

const closedHere = () =>
  new SocketRequestError('CLOSED', closedReason.value === 'unauthorized' ? 'Session ended: the server refused the token' : 'Too many tabs open: this one was disconnected');

/** The server closed this tab for good: nothing reconnects by itself, waiting requests fail. */
function stopHere(reason: ClosedReason): void {
  clearTimeout(retryTimer);
  closedReason.value = reason;
  connectionState.value = 'closed';
  // The server closed the socket: answers to what was sent on it will not come.
  for (const w of [...waiting, ...inFlight]) w.fail(closedHere());
}

type AckEvent = { [E in keyof ClientToServerEvents]: Parameters<ClientToServerEvents[E]>[1] extends infer A
  ? undefined extends A ? never : E
  : never }[keyof ClientToServerEvents];
type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type AckAnswer<E extends AckEvent> = Parameters<NonNullable<Parameters<ClientToServerEvents[E]>[1]>>[0];
export type AckOk<E extends AckEvent> = Extract<AckAnswer<E>, { ok: true }>;

interface Waiting {
  send: () => void;
  fail: (err: SocketRequestError) => void;
}

let socket: SocketLike | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let attempts = 0;
const waiting = new Set<Waiting>();
/** Sent and not answered yet. */
const inFlight = new Set<Waiting>();

/** Delay before the n-th manual reconnect attempt (0-based): 1 s, 2 s, 4 s … capped at 30 s. */
export function backoffDelay(attempt: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
}

function scheduleReconnect(s: SocketLike): void {
  clearTimeout(retryTimer);
  connectionState.value = 'reconnecting';
  retryTimer = setTimeout(() => {
    if (socket === s && !s.connected) s.connect();
  }, backoffDelay(attempts++));
}

export interface OpenOptions {
  /** The host's token source, read at every (re)connect. */
  getToken: () => string | null | Promise<string | null>;
  url?: string;
  /** Registers every server→client listener; called exactly once per socket. */
  register: (socket: SocketLike) => void;
  onUnauthorized: () => void;
}

export function openSocket({ getToken, url, register, onUnauthorized }: OpenOptions): void {
  closeSocket();
  const auth: SocketAuth = (cb) => {
    Promise.resolve()
      .then(getToken)
      .then((token) => cb({ token }), () => cb({ token: null }));
  };
  const s = factory(auth, url);
  socket = s;
  s.on('connect', () => {
    attempts = 0;
    clearTimeout(retryTimer);
    closedReason.value = null;
    connectionState.value = 'connected';
    for (const w of [...waiting]) w.send();
  });
  // The server says why before it closes the socket on purpose.
  s.on('session:closed', ({ reason }: { reason: SessionClosedReason }) => {
    closedReason.value = reason;
  });
  s.on('disconnect', (reason: string) => {
    if (closedReason.value === 'too_many_sockets') {
      // The user opened more tabs than the server keeps; this, the oldest, was let go.
      // Reconnecting by itself would push out the next oldest, and that one would come back for
      // this: it waits for the user (reconnect()).
      stopHere('too_many_sockets');
      return;
    }
    connectionState.value = 'reconnecting';
    // socket.io reconnects by itself except when the server closed the socket on purpose. An
    // expired session lands here too: the next attempt carries the token getToken answers
    // then, and if that is no better the server answers "unauthorized" (below).
    if (reason === 'io server disconnect') scheduleReconnect(s);
  });
  s.on('connect_error', (err: Error) => {
    if (err.message === 'unauthorized') {
      // The token was refused and getToken had no better one. The tab shows that it is closed
      // (a host that signs the user out here stops the chat anyway); what was typed is kept.
      stopHere('unauthorized');
      onUnauthorized();
    } else if (!s.active) {
      scheduleReconnect(s);
    } else {
      connectionState.value = 'reconnecting';
    }
  });
  register(s);
  connectionState.value = 'connecting';
  s.connect();
}

/**
 * Opens again a socket the server closed (state `closed`), at the user's request ("Reconnect
 * here"): after `too_many_sockets` the server then closes the user's oldest other tab instead.
 * The connection asks `getToken` for its token like any other (a refused one closes the tab
 * again). Does nothing in any other state.
 */
export function reconnect(): void {
  const s = socket;
  if (!s || connectionState.value !== 'closed') return;
  clearTimeout(retryTimer);
  attempts = 0;
  closedReason.value = null;
  connectionState.value = 'reconnecting';
  s.connect();
}

export function closeSocket(): void {
  clearTimeout(retryTimer);
  attempts = 0;
  closedReason.value = null;
  for (const w of [...waiting]) w.fail(new SocketRequestError('CLOSED', 'Connection closed'));
  if (socket) {
    socket.removeAllListeners();
    socket.disconnect();
    socket = null;
  }
  connectionState.value = 'idle';
}

export interface RequestOptions<E extends AckEvent> {
  timeoutMs?: number;
  /** Called if the server answers after the timeout already failed the request. */
  onLate?: (answer: AckOk<E>) => void;
}

/**
 * Emit with an ack and resolve with the ok answer. While disconnected the request waits for the
 * next connection; either way it fails after the timeout, so a caller can show a retry.
 */
export function request<E extends AckEvent>(
  event: E,
  payload: Payload<E>,
  { timeoutMs = ACK_TIMEOUT_MS, onLate }: RequestOptions<E> = {},
): Promise<AckOk<E>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const entry: Waiting = {
      send: () => {
        waiting.delete(entry);
        inFlight.add(entry);
        socket?.emit(event, payload, (answer: AckAnswer<E>) => {
          if (settled) {
            if (answer.ok) onLate?.(answer as AckOk<E>);
            return;
          }
          finish();
          if (answer.ok) resolve(answer as AckOk<E>);
          else reject(new SocketRequestError(answer.error.code, answer.error.message));
        });
      },
      fail: (err) => {
        finish();
        reject(err);
      },
    };
    const timer = setTimeout(() => entry.fail(new SocketRequestError('TIMEOUT', `${event} timed out`)), timeoutMs);
    function finish() {
      settled = true;
      clearTimeout(timer);
      waiting.delete(entry);
      inFlight.delete(entry);
    }
    if (socket?.connected) entry.send();
    else if (connectionState.value === 'closed') entry.fail(closedHere());
    else waiting.add(entry);
  });
}

/** Fire-and-forget, dropped while disconnected (for ephemeral signals such as typing). */
export function signal<E extends keyof ClientToServerEvents>(event: E, payload: Payload<E>): void {
  if (socket?.connected) socket.emit(event, payload);
}
