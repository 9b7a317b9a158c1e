// New direct messages push the recipient's unread counts at most every interval per user, the
// latest state each time (chat/unread.ts, pushSoon): the first within a short gathering window
// (every recipient of that window recounted by one statement), a burst's others together when the
// interval ends. A fake clock decides when the interval ends; the database and the bus
// are stand-ins that count recounts and pushes.
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../backend/src/db/database.ts';
import type { Bus } from '../../backend/src/realtime/bus.ts';
import type { UnreadCounts } from '../../backend/src/realtime/events.ts';
import { createUnreadService } from '../../backend/src/chat/unread.ts';
import { waitUntil } from '../helpers/chat.ts';

function setup() {
  let clock = 1_000_000;
  let unreadFromAlice = 0;
  const recounts: string[][] = [];
  const pushed: { to: string; counts: UnreadCounts }[] = [];
  const recount = async (_text: string, [userIds]: [string[]]) => {
    recounts.push(userIds);
    return userIds.map((u) => ({ k: 'p', u, key: 'alice', n: unreadFromAlice }));
  };
  const db = { table: (name: string) => `"${name}"`, sql: recount, prepared: recount } as unknown as Database;
  const bus = {
    emit: (to: string | string[], event: string, counts: UnreadCounts) => {
      if (event === 'unread:update') pushed.push({ to: String(to), counts });
    },
  } as unknown as Bus;
  const unread = createUnreadService(db, bus, (err) => {
    throw err;
  }, { newMessageIntervalMs: 200, now: () => clock });
  return {
    unread,
    recounts,
    pushed,
    newMessage: (to: string) => {
      unreadFromAlice++;
      unread.pushSoon(to);
    },
    advance: (ms: number) => (clock += ms),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 60));
let closeIt: (() => void) | undefined;
afterEach(() => closeIt?.());

describe('unread:update for new messages', () => {
  it('pushes the first at once, then one push with the latest counts for a burst, when the interval ends', async () => {
    const t = setup();
    closeIt = t.unread.close;
    t.newMessage('bob');
    await waitUntil(() => t.pushed.length === 1);
    expect(t.pushed[0]!.counts.byPeer).toEqual({ alice: 1 });
    for (let i = 0; i < 9; i++) t.newMessage('bob');
    await settle();
    expect(t.pushed).toHaveLength(1); // the interval has not ended on the clock
    t.advance(200);
    await waitUntil(() => t.pushed.length === 2);
    expect(t.pushed[1]).toEqual({ to: 'bob', counts: expect.objectContaining({ total: 10, byPeer: { alice: 10 } }) });
    await settle();
    expect(t.pushed).toHaveLength(2);
    expect(t.recounts).toHaveLength(2);
  });

  it('pushes at once again after a quiet interval, and keeps users apart', async () => {
    const t = setup();
    closeIt = t.unread.close;
    t.newMessage('bob');
    t.newMessage('carol');
    await waitUntil(() => t.pushed.length === 2);
    t.advance(250);
    t.newMessage('bob');
    await waitUntil(() => t.pushed.length === 3);
    expect(t.pushed[2]!.to).toBe('bob');
    t.newMessage('carol'); // carol's interval ended too: at once
    await waitUntil(() => t.pushed.length === 4);
    expect(t.pushed[3]!.to).toBe('carol');
  });

  it('recounts the recipients of one gathering window in one statement', async () => {
    const t = setup();
    closeIt = t.unread.close;
    for (const u of ['bob', 'carol', 'dave']) t.newMessage(u);
    await waitUntil(() => t.pushed.length === 3);
    expect(t.recounts).toEqual([['bob', 'carol', 'dave']]);
    expect(t.pushed.map((p) => p.to).sort()).toEqual(['bob', 'carol', 'dave']);
  });

  it('drops what waits for its interval when the node closes', async () => {
    const t = setup();
    t.newMessage('bob');
    await waitUntil(() => t.pushed.length === 1);
    t.newMessage('bob');
    t.unread.close();
    t.advance(500);
    await settle();
    expect(t.pushed).toHaveLength(1);
  });
});
