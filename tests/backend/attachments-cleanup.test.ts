// Unsent uploads are deleted after 24 h by a job every node runs (DESIGN.md, "Rich messages").
// Two module instances on one database and one upload directory run it at the same time while
// sends of the same uploads race it: every old unsent upload goes exactly once, everything sent
// keeps its upload (row and blob), and nothing recent is touched.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFriendChat, type FriendChat } from '../../backend/src/server.ts';
import { receivedFile } from '../../backend/src/uploads/receive.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

const OLD = 120;
const RACED = 60;

describe.each(dbTargets())('deleting unsent uploads, two nodes at once, on %s', (target) => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  let dir: string;
  let nodes: FriendChat[];

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    if (target === 'pglite') pglite = new PGlite('memory://');
    dir = mkdtempSync(path.join(tmpdir(), 'fc-cleanup-'));
    const node = (nodeId: string) =>
      createFriendChat({
        database: pglite ? { pglite } : { url: tdb.url! },
        identify: (t) => t,
        users: { byIds: async (ids) => ids.map((id) => ({ id, username: id, displayName: id, avatarUrl: null })) },
        friends: { areFriends: async () => true, friendIds: async (id) => (id === 'u1' ? ['u2'] : ['u1']) },
        // The job is run by hand here; no timers.
        uploads: { dir, cleanupIntervalMs: 0 },
        nodeId,
      });
    nodes = [await node('a'), await node('b')];
  });
  afterAll(async () => {
    for (const n of nodes ?? []) await n.close();
    await pglite?.close();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes each old unsent upload exactly once while sends race it; nothing sent or recent is lost', async () => {
    const [a, b] = nodes.map((n) => n.internals.services);
    const db = nodes[0]!.internals.db;
    const ids: string[] = [];
    for (let i = 0; i < OLD; i++) ids.push((await a!.attachments.upload('u1', receivedFile(Buffer.from(`%PDF-1.4 old ${i}`), `old-${i}.pdf`))).id);
    const recent = await b!.attachments.upload('u1', receivedFile(Buffer.from('%PDF-1.4 recent'), 'recent.pdf'));
    // 25 hours from now every upload above is old, but for the recent one, made "later".
    const now = new Date(Date.now() + 25 * 3600_000);
    await db.sql(`UPDATE ${db.table('Attachment')} SET "createdAt" = $1::timestamptz AT TIME ZONE 'UTC' WHERE id = $2::uuid`, [
      new Date(now.getTime() - 3600_000).toISOString(),
      recent.id,
    ]);

    const drain = async (svc: typeof a) => {
      let total = 0;
      for (let n; (n = await svc!.attachments.cleanup({ now, batch: 7 })) > 0; ) total += n;
      return total;
    };
    const sends = ids.slice(0, RACED).map((id, i) =>
      (i % 2 ? a : b)!.messages.send({ from: 'u1', to: 'u2', content: '', attachmentId: id, rateLimited: false }).then(
        () => 'sent',
        (err: { code?: string }) => err.code ?? String(err),
      ),
    );
    const [byA, byB, outcomes] = await Promise.all([drain(a), drain(b), Promise.all(sends)]);

    // A raced send either got its upload or found it deleted, nothing else.
    expect(outcomes.filter((o) => o !== 'sent' && o !== 'NOT_FOUND')).toEqual([]);
    const sent = outcomes.filter((o) => o === 'sent').length;
    expect(byA + byB).toBe(OLD - sent);

    // Every stored message still has its upload, row and blob.
    const messages = await db.sql<{ attachmentId: string | null; storageKey: string | null }>(
      `SELECT m."attachmentId", a."storageKey" FROM ${db.table('Message')} m LEFT JOIN ${db.table('Attachment')} a ON a.id = m."attachmentId"`,
    );
    expect(messages).toHaveLength(sent);
    for (const m of messages) {
      expect(m.attachmentId).not.toBeNull();
      expect(m.storageKey).not.toBeNull();
      expect(existsSync(path.join(dir, m.storageKey!))).toBe(true);
    }
    // What is left: the sent ones and the recent one; their blobs and no others.
    const left = await db.sql<{ id: string; storageKey: string }>(`SELECT id::text, "storageKey" FROM ${db.table('Attachment')} ORDER BY 1`);
    expect(left.map((l) => l.id).sort()).toEqual([...messages.map((m) => m.attachmentId!), recent.id].sort());
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
      .sort();
    expect(files).toEqual(left.map((l) => l.storageKey).sort());

    // Run again: nothing more to do.
    expect(await a!.attachments.cleanup({ now })).toBe(0);
  });
});
