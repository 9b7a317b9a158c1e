// Load clients for the fault benchmark, behaving like the Vue client (frontend/src/friend-chat):
// - a failover list of node URLs (as a load balancer would): when the connection drops, the
//   client reconnects to the next node of its list, after a short random delay;
// - on every connect it pages through `chat:sync` from the last `nextCursor` it kept (socket/
//   resync.ts), retrying a page refused as RATE_LIMITED or UNAVAILABLE after 1 s;
// - a send whose connection dropped, or that was refused or timed out, goes again with the same
//   clientId (the server dedupes by clientId) until acknowledged — the Vue outbox retries CLOSED
//   by itself and offers a retry for the rest, which the bench presses for the user.
// Every message is written in a ledger so what each fault cost can be counted afterwards.
import { io, type Socket } from 'socket.io-client';

/** The Vue client's ack timeout (socket/client.ts ACK_TIMEOUT_MS). */
export const ACK_TIMEOUT_MS = 10_000;
const SYNC_PAGE = 100;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 4_000;

export interface Sent {
  clientId: string;
  from: FailoverClient;
  to: FailoverClient;
  content: string;
  /** performance.now() of the first attempt. */
  createdAt: number;
  attempts: number;
  /** Failed attempts by why: an error code, TIMEOUT, or DISCONNECTED (the connection dropped with it in flight). */
  failures: string[];
  lastFailureAt?: number;
  ackedId?: string;
  ackedAt?: number;
  /** A later ack naming another message id than the first: the server stored it twice. */
  otherAckIds: string[];
  /** It waited for a connection (offered, or due for a retry, while its sender was disconnected). */
  waited?: boolean;
  /** The ledger it was written in (the bench swaps the clients' ledger after the warm-up). */
  ledger: Ledger;
  /** Bumped per attempt; an answer to an older attempt that failed meanwhile is ignored unless ok. */
  token: number;
}

export interface Received {
  id: string;
  clientId: string;
  /** First seen live (`chat:message`), by a sync after a (re)connect, or by the final check. */
  via: 'live' | 'sync' | 'final';
  at: number;
  livePushes: number;
}

export class FailoverClient {
  socket: Socket | null = null;
  /** Index into `urls` of the node this client is on (or trying). */
  node: number;
  cursor: string | undefined;
  /** Messages to me, by id. */
  readonly received = new Map<string, Received>();
  /** clientId → the message ids seen for it (more than one: stored twice). */
  readonly idsByClientId = new Map<string, Set<string>>();
  livePushDuplicates = 0;
  /** performance.now() of the last live push of a message to me. */
  lastLiveAt = 0;
  /** A live push that came after the final sync had brought the message (late, not missing). */
  livePushedAfterFinal = 0;
  connects = 0;
  /** Times of the last drop, the reconnect after it, and the end of the sync after it. */
  droppedAt?: number;
  reconnectedAt?: number;
  syncedAt?: number;
  syncErrors: Record<string, number> = {};
  private readonly waiting: Sent[] = [];
  private readonly inflight = new Set<Sent>();
  private stopped = false;
  /** After the drain: no more sends or retries (what is unacknowledged then counts as refused). */
  private sending = true;
  /** performance.now() past which a sync gives up (the final check's budget). */
  syncDeadline = Infinity;
  /** The last sync after the run came to its end (not cut by the deadline, errors or a drop). */
  finalSyncDone = false;
  private syncing: Promise<boolean> | null = null;
  private finalPhase = false;

  constructor(
    readonly id: string,
    private readonly token: string,
    private readonly urls: string[],
    home: number,
  ) {
    this.node = home;
  }

  /** First connection to the home node, and the first sync (which gives the cursor). */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.open(resolve, reject);
    });
  }

  private open(onFirst?: () => void, onFirstError?: (e: Error) => void): void {
    const socket = io(this.urls[this.node]!, { auth: { token: this.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    this.socket = socket;
    socket.on('chat:message', (p: { message: { id: string; clientId: string | null; toUserId: string | null } }) => {
      if (p.message.toUserId === this.id && p.message.clientId) this.see(p.message.id, p.message.clientId, 'live');
    });
    socket.once('connect', () => {
      this.connects++;
      if (this.droppedAt !== undefined && this.reconnectedAt === undefined) this.reconnectedAt = performance.now();
      // What waited for the connection goes at once, beside the sync (the Vue client's queue).
      for (const m of this.waiting.splice(0)) this.attempt(m);
      const sync = this.sync().then((done) => {
        if (done && this.droppedAt !== undefined && this.syncedAt === undefined) this.syncedAt = performance.now();
      });
      if (onFirst) void sync.then(onFirst);
    });
    socket.once('connect_error', (err) => {
      socket.close();
      if (onFirstError) return onFirstError(err);
      this.failover();
    });
    socket.once('disconnect', (reason) => {
      if (this.stopped || reason === 'io client disconnect') return;
      this.droppedAt ??= performance.now();
      for (const m of this.inflight) this.fail(m, 'DISCONNECTED');
      this.inflight.clear();
      this.failover();
    });
  }

  /** The next node of the list, after 0–500 ms (many clients dropping at once do not come back in one burst). */
  private failover(): void {
    if (this.stopped) return;
    this.node = (this.node + 1) % this.urls.length;
    setTimeout(() => this.open(), Math.random() * 500);
  }

  private see(id: string, clientId: string, via: Received['via']): void {
    if (via === 'live') this.lastLiveAt = performance.now();
    const r = this.received.get(id);
    if (r) {
      if (via === 'live') {
        if (r.via === 'final' && r.livePushes === 0) this.livePushedAfterFinal++;
        r.livePushes++;
        if (r.livePushes > 1) this.livePushDuplicates++;
      }
      return;
    }
    this.received.set(id, { id, clientId, via: this.finalPhase && via === 'sync' ? 'final' : via, at: performance.now(), livePushes: via === 'live' ? 1 : 0 });
    let ids = this.idsByClientId.get(clientId);
    if (!ids) this.idsByClientId.set(clientId, (ids = new Set()));
    ids.add(id);
  }

  /** Pages through chat:sync from the cursor until nothing more is new; false if the connection dropped first. */
  sync(): Promise<boolean> {
    this.syncing ??= (async () => {
      // A page refused or timed out is asked again after 1 s, 10 times in a row at most.
      for (let page = 0, errors = 0; page < 1000 && errors < 10 && !this.stopped && performance.now() < this.syncDeadline; ) {
        const socket = this.socket;
        if (!socket?.connected) return false; // the next connect syncs
        let res: { ok: boolean; messages?: { id: string; clientId: string | null; toUserId: string | null }[]; nextCursor?: string; hasMore?: boolean; error?: { code: string } };
        try {
          res = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('chat:sync', this.cursor ? { after: this.cursor, limit: SYNC_PAGE } : { limit: SYNC_PAGE });
        } catch {
          res = { ok: false, error: { code: 'TIMEOUT' } };
        }
        if (!res.ok) {
          const code = res.error?.code ?? 'UNKNOWN';
          this.syncErrors[code] = (this.syncErrors[code] ?? 0) + 1;
          errors++;
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        errors = 0;
        for (const m of res.messages!) if (m.toUserId === this.id && m.clientId) this.see(m.id, m.clientId, 'sync');
        this.cursor = res.nextCursor;
        page++;
        if (!res.hasMore) return true;
      }
      return false;
    })().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  /** After the run: one more sync, as the next reconnect would do; what it brings counts as `final`. */
  async finalSync(deadline: number): Promise<void> {
    this.finalPhase = true;
    this.syncDeadline = deadline;
    await this.syncing;
    this.finalSyncDone = await this.sync();
  }

  stopSending(): void {
    this.sending = false;
  }

  /** `presence:list`: the friends this client is told are online, or null (not connected, refused, timed out). */
  async onlineFriends(): Promise<string[] | null> {
    if (!this.socket?.connected) return null;
    try {
      const res = (await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('presence:list', {})) as { ok: boolean; online?: string[] };
      return res.ok ? res.online! : null;
    } catch {
      return null;
    }
  }

  send(m: Sent): void {
    this.attempt(m);
  }

  private attempt(m: Sent): void {
    if (this.stopped || !this.sending || m.ackedId) return;
    if (!this.socket?.connected) {
      m.waited = true;
      this.waiting.push(m);
      return;
    }
    const token = ++m.token;
    m.attempts++;
    this.inflight.add(m);
    this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit('chat:send', { to: m.to.id, content: m.content, clientId: m.clientId }, (err: Error | null, res: { ok: boolean; message?: { id: string }; error?: { code: string } }) => {
        if (!err && res.ok) {
          // Even the answer to an attempt given up on counts (the Vue client's onLate).
          m.ledger.ack(m, res.message!.id);
          if (m.token === token) this.inflight.delete(m);
          return;
        }
        if (m.token !== token || m.ackedId) return;
        this.inflight.delete(m);
        this.fail(m, err ? 'TIMEOUT' : (res.error?.code ?? 'UNKNOWN'));
      });
  }

  private fail(m: Sent, why: string): void {
    m.token++;
    m.failures.push(why);
    m.lastFailureAt = performance.now();
    m.ledger.failure(why);
    if (why === 'DISCONNECTED') {
      this.waiting.push(m); // goes again on the next connect
      return;
    }
    // A refusal (UNAVAILABLE…) is retried soon, backing off; a timeout means a slow server, so
    // the retry waits as long again (as a user pressing "retry" on a failed message would).
    const backoff = why === 'TIMEOUT' ? ACK_TIMEOUT_MS : Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (m.failures.length - 1));
    const delay = backoff * (0.5 + Math.random());
    setTimeout(() => this.attempt(m), delay);
  }

  /** Still waiting for an ack: queued, in flight, or between retries. */
  stop(): void {
    this.stopped = true;
    this.socket?.disconnect();
  }

  get connected(): boolean {
    return !!this.socket?.connected;
  }
}

export class Ledger {
  readonly sent: Sent[] = [];
  readonly failures: Record<string, number> = {};
  /** performance.now() of every failed attempt, for the refusal window. */
  readonly failureTimes: number[] = [];
  acked = 0;

  ack(m: Sent, id: string): void {
    if (m.ackedId === undefined) {
      m.ackedId = id;
      m.ackedAt = performance.now();
      this.acked++;
    } else if (m.ackedId !== id && !m.otherAckIds.includes(id)) m.otherAckIds.push(id);
  }

  failure(why: string): void {
    this.failures[why] = (this.failures[why] ?? 0) + 1;
    this.failureTimes.push(performance.now());
  }

  unacked(): number {
    return this.sent.length - this.acked;
  }
}
