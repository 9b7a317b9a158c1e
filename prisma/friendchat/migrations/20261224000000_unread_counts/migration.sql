-- Direct unread counts kept, not recounted (chat/unread.ts; bench/README.md, issue 15): one row per
-- (recipient, sender) with the number of messages to the recipient from that sender that are not
-- read and not recalled. Only chat between two users counts here. System messages (no sender) are
-- left out: the host's notifications are stored in its own transactions, several users' at a time
-- and in any order (a friendship notifies both people, then their achievements), so a counter row
-- per user would make those transactions wait on each other in a circle (a deadlock, seen in
-- tests/backend/notifications.test.ts); they stay few per user and are recounted (chat/unread.ts).
-- Group messages (no recipient) are not counted here either: a group's unread count is arithmetic
-- on its message numbers (groups/seq.ts). A row whose count went back to 0 stays (n = 0); readers
-- skip it.
-- Run with the module's schema as search_path, like every migration of the module.

-- CreateTable
CREATE TABLE "UnreadCount" (
    "userId" TEXT NOT NULL,
    "peerId" TEXT NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "UnreadCount_pkey" PRIMARY KEY ("userId","peerId")
);

-- A deleted user's rows as the sender (chat/deletedUsers.ts). A row is inserted once per pair;
-- a count's update changes no indexed column (a HOT update), so this index costs the sends nothing.
CREATE INDEX "UnreadCount_peerId_idx" ON "UnreadCount"("peerId");

-- The database keeps the counts, whatever statement changes a message (send, read, recall, a
-- deleted user's messages deleted or moved to their tombstone id, a host's own SQL): a trigger per
-- statement adds what the statement's new rows count and takes off what its old rows counted,
-- per (recipient, sender), in one upsert. A row that changed nothing that counts (a delivered
-- receipt, an edit, a reaction) adds and takes off the same and writes nothing. The rows are
-- upserted in key order, so two statements that change the same counts lock them in the same
-- order and never deadlock. (A column list, `UPDATE OF "isRead", …`, is not allowed on a trigger
-- with transition tables: every UPDATE of Message runs it.)
CREATE FUNCTION "UnreadCount_apply"() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "UnreadCount" ("userId", "peerId", n)
    SELECT "toUserId", "fromUserId", count(*)::int FROM new_rows
     WHERE "toUserId" IS NOT NULL AND "fromUserId" IS NOT NULL AND NOT "isRead" AND "deletedAt" IS NULL
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT ("userId", "peerId") DO UPDATE SET n = "UnreadCount".n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "UnreadCount" ("userId", "peerId", n)
    SELECT "toUserId", "fromUserId", -count(*)::int FROM old_rows
     WHERE "toUserId" IS NOT NULL AND "fromUserId" IS NOT NULL AND NOT "isRead" AND "deletedAt" IS NULL
     GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT ("userId", "peerId") DO UPDATE SET n = "UnreadCount".n + EXCLUDED.n;
  ELSE
    INSERT INTO "UnreadCount" ("userId", "peerId", n)
    SELECT u, p, sum(d)::int FROM (
      SELECT "toUserId" AS u, "fromUserId" AS p, 1 AS d FROM new_rows
       WHERE "toUserId" IS NOT NULL AND "fromUserId" IS NOT NULL AND NOT "isRead" AND "deletedAt" IS NULL
      UNION ALL
      SELECT "toUserId", "fromUserId", -1 FROM old_rows
       WHERE "toUserId" IS NOT NULL AND "fromUserId" IS NOT NULL AND NOT "isRead" AND "deletedAt" IS NULL
    ) c
     GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2
    ON CONFLICT ("userId", "peerId") DO UPDATE SET n = "UnreadCount".n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "UnreadCount_insert" AFTER INSERT ON "Message"
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "UnreadCount_apply"();
CREATE TRIGGER "UnreadCount_update" AFTER UPDATE ON "Message"
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "UnreadCount_apply"();
CREATE TRIGGER "UnreadCount_delete" AFTER DELETE ON "Message"
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "UnreadCount_apply"();

-- TRUNCATE fires no row or transition trigger: the counts go with the messages.
CREATE FUNCTION "UnreadCount_truncate"() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  DELETE FROM "UnreadCount";
  RETURN NULL;
END
$$;

CREATE TRIGGER "UnreadCount_truncate" AFTER TRUNCATE ON "Message"
FOR EACH STATEMENT EXECUTE FUNCTION "UnreadCount_truncate"();

-- Backfill: the messages stored so far. The triggers above already lock out writers to "Message"
-- (CREATE TRIGGER's lock is held to the end of this migration's transaction), so no message
-- written meanwhile is missed or counted twice.
INSERT INTO "UnreadCount" ("userId", "peerId", n)
SELECT "toUserId", "fromUserId", count(*)::int FROM "Message"
 WHERE "toUserId" IS NOT NULL AND "fromUserId" IS NOT NULL AND NOT "isRead" AND "deletedAt" IS NULL
 GROUP BY 1, 2;
