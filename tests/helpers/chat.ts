// Small helpers shared by the chat tests: friends in one call, sends over the socket and over
// HTTP, and polling for server-side state that no event announces (a tab that has closed).
import { randomUUID } from 'node:crypto';
import type { ErrorBody, WireMessage } from '../../backend/src/realtime/events.ts';
import type { ClientSocket, TestServer, TestUser } from './server.ts';
import { emitAck, sleep } from './wait.ts';

/** Two fresh users who are friends (mutual follow). */
export async function friendPair(s: TestServer): Promise<[TestUser, TestUser]> {
  const a = await s.register();
  const b = await s.register();
  await s.makeFriends(a, b);
  return [a, b];
}

/** A `chat:send` ack, loosely typed for tests: `message` when ok, `error` when not. */
export interface SendAck {
  ok: boolean;
  message: WireMessage;
  error: ErrorBody;
}

/** `chat:send` with an ack; a fresh clientId unless one is given. */
export function sendOverSocket(socket: ClientSocket, to: string, content: string, clientId: string = randomUUID()): Promise<SendAck> {
  return emitAck<SendAck>(socket, 'chat:send', { to, content, clientId });
}

/** POST /api/messages/:to; answers the stored message and fails the test on any other status. */
export async function sendOverHttp(s: TestServer, from: TestUser, to: string, content: string, clientId?: string) {
  const r = await s.request('POST', `/api/messages/${to}`, { token: from.token, body: clientId ? { content, clientId } : { content } });
  if (r.status !== 201) throw new Error(`send failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.message as WireMessage;
}

/** Polls `check` until it holds, or fails after `ms`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves once the server holds exactly `n` connected sockets for `userId`. */
export function serverSeesTabs(s: TestServer, userId: string, n: number): Promise<void> {
  return waitUntil(async () => (await s.app.io.in(userId).fetchSockets()).length === n, 5000, `${n} tab(s) of ${userId}`);
}

/** A deliberately idle wait, used only after an event that proves ordering, to show that something did NOT arrive. */
export const quietPeriod = () => sleep(300);

/**
 * Waits until the demo host's FIRST_MESSAGE achievement of `u` is stored: the host unlocks it in
 * the module's `messageSent` hook, which runs after the send is answered.
 */
export function firstMessageUnlocked(s: TestServer, u: TestUser, ms = 5000): Promise<void> {
  return waitUntil(
    async () => {
      const r = await s.request('GET', '/api/achievements', { token: u.token });
      return (r.body.achievements as { code: string }[]).some((a) => a.code === 'FIRST_MESSAGE');
    },
    ms,
    `FIRST_MESSAGE of ${u.id}`,
  );
}

/** Resolves once no `messageSent` hook runs or waits on this node (the demo host's achievements done). */
export function outboxIdle(s: TestServer, ms = 5000): Promise<void> {
  return waitUntil(() => (s.app.chat.internals.outbox?.pending() ?? 0) === 0, ms, 'the messageSent outbox to drain');
}
