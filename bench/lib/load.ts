// The load generator: real socket.io-client clients, paired as friends (0-1, 2-3, …); each
// message goes from a client to its partner. Latency is send → the partner's `chat:message`,
// measured on one clock because every client lives in this process.
import { io, type Socket } from 'socket.io-client';
import { DELIVERED_BATCH_MAX, DELIVERED_FLUSH_MS } from '../../frontend/src/friend-chat/deliveryBatch.ts';

export interface Client {
  id: string;
  socket: Socket;
}

export async function connectClients(urls: string[], users: { id: string; token: string }[], batch = 200): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < users.length; i += batch) {
    const chunk = users.slice(i, i + batch);
    clients.push(
      ...(await Promise.all(
        chunk.map(
          (u, j) =>
            new Promise<Client>((resolve, reject) => {
              const socket = io(urls[(i + j) % urls.length]!, { auth: { token: u.token }, transports: ['websocket'], reconnection: false, forceNew: true });
              socket.once('connect', () => resolve({ id: u.id, socket }));
              socket.once('connect_error', reject);
            }),
        ),
      )),
    );
  }
  return clients;
}

export function disconnectAll(clients: Client[]): void {
  for (const c of clients) c.socket.disconnect();
}

export interface PhaseResult {
  offeredRate: number;
  seconds: number;
  sent: number;
  acked: number;
  delivered: number;
  errors: Record<string, number>;
  deliveredPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Send → the sender's own ack (the message stored), in ms. */
  ackP50?: number;
  ackP99?: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Offers `rate` messages per second for `seconds`, spread evenly over the senders, then waits
 * up to `drainMs` for stragglers. Returns what was delivered and how fast.
 */
export async function runPhase(
  clients: Client[],
  rate: number,
  seconds: number,
  drainMs = 3000,
  tag = 'p',
  opts: { deliveredAcks?: boolean; ackWindowMs?: number } = {},
): Promise<PhaseResult> {
  const pending = new Map<string, number>();
  const latencies: number[] = [];
  const ackLatencies: number[] = [];
  const errors: Record<string, number> = {};
  let acked = 0;
  type Pushed = { message: { id: string; clientId: string | null; toUserId: string } };
  const listeners: [Socket, (p: Pushed) => void][] = [];
  // With `deliveredAcks`, each client acknowledges what it received as the Vue client does: the
  // ids of `ackWindowMs` (the Vue client's DELIVERED_FLUSH_MS) or 100 ids in one `chat:delivered`.
  const ackWindowMs = opts.ackWindowMs ?? DELIVERED_FLUSH_MS;
  const flushers: (() => void)[] = [];
  for (const c of clients) {
    let batch: string[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flushAcks = () => {
      if (timer) clearTimeout(timer);
      timer = null;
      if (batch.length === 0) return;
      const messageIds = batch;
      batch = [];
      c.socket.emit('chat:delivered', { messageIds }, (res: { ok: boolean; error?: { code: string } }) => {
        if (!res.ok) errors[`delivered:${res.error?.code ?? 'UNKNOWN'}`] = (errors[`delivered:${res.error?.code ?? 'UNKNOWN'}`] ?? 0) + 1;
      });
    };
    flushers.push(flushAcks);
    const fn = (p: Pushed) => {
      if (p.message.toUserId !== c.id || !p.message.clientId) return;
      if (opts.deliveredAcks) {
        batch.push(p.message.id);
        if (batch.length >= DELIVERED_BATCH_MAX) flushAcks();
        else timer ??= setTimeout(flushAcks, ackWindowMs);
      }
      const t0 = pending.get(p.message.clientId);
      if (t0 === undefined) return;
      pending.delete(p.message.clientId);
      latencies.push(performance.now() - t0);
    };
    c.socket.on('chat:message', fn);
    listeners.push([c.socket, fn]);
  }

  const senders = clients.length - (clients.length % 2);
  const total = Math.round(rate * seconds);
  let sent = 0;
  let next = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        const from = clients[next]!;
        const to = clients[next ^ 1]!;
        next = (next + 1) % senders;
        const clientId = `${tag}-${sent}`;
        const t0 = performance.now();
        pending.set(clientId, t0);
        from.socket.emit('chat:send', { to: to.id, content: `hello ${sent}`, clientId }, (res: { ok: boolean; error?: { code: string } }) => {
          ackLatencies.push(performance.now() - t0);
          if (res.ok) acked++;
          else {
            errors[res.error?.code ?? 'UNKNOWN'] = (errors[res.error?.code ?? 'UNKNOWN'] ?? 0) + 1;
            pending.delete(clientId);
          }
        });
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const sendEnd = performance.now();
  const drainUntil = sendEnd + drainMs;
  while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  const lastDelivery = performance.now();
  for (const [s, fn] of listeners) s.off('chat:message', fn);
  for (const f of flushers) f();

  latencies.sort((a, b) => a - b);
  const elapsed = (pending.size === 0 ? lastDelivery : drainUntil) - start;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    offeredRate: rate,
    seconds,
    sent,
    acked,
    delivered: latencies.length,
    errors,
    deliveredPerSecond: Math.round((latencies.length / elapsed) * 1000),
    p50: round(percentile(latencies, 50)),
    p90: round(percentile(latencies, 90)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies.at(-1) ?? NaN),
    ackP50: round(percentile(ackLatencies.sort((a, b) => a - b), 50)),
    ackP99: round(percentile(ackLatencies, 99)),
  };
}

/**
 * Raises the offered rate step by step; the maximum sustained rate is the highest step at which
 * everything was delivered within the drain time and p99 stayed under `p99LimitMs`.
 */
export async function findMaxRate(
  clients: Client[],
  steps: number[],
  seconds: number,
  p99LimitMs = 1000,
  log: (r: PhaseResult) => void = () => {},
): Promise<{ max: PhaseResult | null; phases: PhaseResult[] }> {
  const phases: PhaseResult[] = [];
  let max: PhaseResult | null = null;
  for (const [i, rate] of steps.entries()) {
    const r = await runPhase(clients, rate, seconds, 3000, `m${i}`);
    phases.push(r);
    log(r);
    const ok = r.delivered === r.sent && r.p99 <= p99LimitMs;
    if (!ok) break;
    max = r;
    await new Promise((res) => setTimeout(res, 500));
  }
  return { max, phases };
}
