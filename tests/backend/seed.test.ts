// The demo's seed writes its conversation through the module's public calls (chat.send,
// chat.markRead), as the users would: the same messages, read state and "first message"
// achievements as a user's sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationEntry, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { outboxIdle } from '../helpers/chat.ts';

describe.each(dbTargets())('the demo seed on %s', (target) => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    s = await startServer({ target, app: { seed: true } });
    for (const name of ['alice', 'bob']) {
      const r = await s.request('POST', '/api/auth/login', { body: { username: name, password: 'password123' } });
      expect(r.status).toBe(200);
      tokens[name] = r.body.token;
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  it('leaves alice a conversation with bob: three messages, the last one unread', async () => {
    const { conversations } = (await s.request('GET', '/api/messages/conversations/list', { token: tokens.alice })).body as { conversations: ConversationEntry[] };
    expect(conversations).toHaveLength(1);
    const [withBob] = conversations;
    expect(withBob).toMatchObject({ peer: { username: 'bob' }, unread: 1, lastMessage: { content: 'It is on the home page, “Ink landscape, no. 3” 🙂' } });
    const history = await s.request('GET', `/api/messages/${withBob!.peer.id}`, { token: tokens.alice });
    expect(history.body.messages.map((m: WireMessage) => [m.content, m.isRead])).toEqual([
      ['Hi Alice! Did you see my new ink painting?', true],
      ['Not yet, sending it my way?', true],
      ['It is on the home page, “Ink landscape, no. 3” 🙂', false],
    ]);
  });

  it('gave both senders their "first message" achievement, as a user’s send does', async () => {
    // Unlocked by the host's messageSent hook, after each send's answer.
    await outboxIdle(s);
    for (const name of ['alice', 'bob']) {
      const list = await s.request('GET', '/api/messages/system/list', { token: tokens[name] });
      const achievements = list.body.messages.filter((m: WireMessage) => m.messageType === 'SYSTEM_ACHIEVEMENT');
      expect(achievements.map((m: WireMessage) => (m.metadata as { achievement: { code: string } }).achievement.code), name).toEqual(['FIRST_MESSAGE']);
    }
  });
});
