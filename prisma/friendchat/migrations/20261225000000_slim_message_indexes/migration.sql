-- Fewer index entries per direct message (issue 15: PostgreSQL's part of a message's cost). Every
-- row written to "Message", and every update of it that is not heap-only (a delivered receipt, a
-- read mark, an edit, a reaction: each moves the indexed "changedAt"), adds an entry to each of
-- its indexes. The two group indexes held an entry (a NULL key) for every direct message, and
-- the attachment index one for every message without an upload: now each holds only the rows it
-- is for. Every statement that reads them compares the column with "=", from which the planner
-- proves IS NOT NULL (tests/backend/message-indexes.test.ts). Measured with pgbench on an
-- otherwise idle PostgreSQL 15 (10 direct messages per INSERT, then receipts of 10 per UPDATE):
-- 68–70 -> 65–66 µs per inserted row, about 3% less per receipt.
-- "Message_attachmentId_key" keeps its name: the error a second send of an upload raises names it.
-- The three indexes are rebuilt while the migration holds its lock on "Message": on a large table
-- the first start after an upgrade takes that long longer (a scan of the table per index).
-- Run with the module's schema as search_path, like every migration of the module.

DROP INDEX "Message_groupId_createdAt_id_idx";
CREATE INDEX "Message_groupId_createdAt_id_idx" ON "Message"("groupId", "createdAt", "id") WHERE "groupId" IS NOT NULL;

DROP INDEX "Message_groupId_changedAt_idx";
CREATE INDEX "Message_groupId_changedAt_idx" ON "Message"("groupId", "changedAt") WHERE "groupId" IS NOT NULL;

DROP INDEX "Message_attachmentId_key";
CREATE UNIQUE INDEX "Message_attachmentId_key" ON "Message"("attachmentId") WHERE "attachmentId" IS NOT NULL;
