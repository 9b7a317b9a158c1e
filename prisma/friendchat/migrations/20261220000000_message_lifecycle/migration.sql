-- Message lifecycle (DESIGN.md, "Message lifecycle"): delivered receipts, edits, replies,
-- reactions, and a change stamp that lets sync carry changes, not only new messages.
-- Run with the module's schema as search_path, like every migration of the module.

-- AlterTable
ALTER TABLE "Message" ADD COLUMN "deliveredAt" TIMESTAMP(3),
ADD COLUMN "editedAt" TIMESTAMP(3),
ADD COLUMN "replyToId" UUID,
ADD COLUMN "changedAt" TIMESTAMP(3);

-- Backfill: the last change each row records (created, read, recalled); GREATEST skips nulls.
UPDATE "Message" SET "changedAt" = GREATEST("createdAt", "readAt", "deletedAt");

ALTER TABLE "Message" ALTER COLUMN "changedAt" SET NOT NULL,
ALTER COLUMN "changedAt" SET DEFAULT CURRENT_TIMESTAMP;

-- The change stamp follows every change of a row (edit, recall, delivered, read, and through the
-- Reaction trigger below, reactions), whichever statement makes it: the transaction's start time
-- in UTC, like "createdAt", so sync's horizon (backend/src/chat/sql.ts) covers changes still in
-- flight exactly as it covers inserts.
CREATE FUNCTION "Message_touch"() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  NEW."changedAt" := now() AT TIME ZONE 'UTC';
  RETURN NEW;
END
$$;

CREATE TRIGGER "Message_touch" BEFORE UPDATE ON "Message"
FOR EACH ROW EXECUTE FUNCTION "Message_touch"();

-- Sync reads each branch in change order: to me, from me (round 1 had no index for this branch),
-- and per group.
CREATE INDEX "Message_toUserId_changedAt_idx" ON "Message"("toUserId", "changedAt");
CREATE INDEX "Message_fromUserId_changedAt_idx" ON "Message"("fromUserId", "changedAt");
CREATE INDEX "Message_groupId_changedAt_idx" ON "Message"("groupId", "changedAt");

-- A reply points at a message of the same conversation (checked by the module). A recalled
-- original is a soft delete and stays; one deleted outright leaves the reply without it.
ALTER TABLE "Message" ADD CONSTRAINT "Message_replyToId_fkey" FOREIGN KEY ("replyToId") REFERENCES "Message"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- CreateTable: one row per (message, user, emoji).
CREATE TABLE "Reaction" (
    "messageId" UUID NOT NULL,
    "userId" TEXT NOT NULL,
    "emoji" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Reaction_pkey" PRIMARY KEY ("messageId", "userId", "emoji")
);

ALTER TABLE "Reaction" ADD CONSTRAINT "Reaction_messageId_fkey" FOREIGN KEY ("messageId") REFERENCES "Message"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A reaction added or taken back is a change of its message (sync carries it again).
CREATE FUNCTION "Reaction_touch_message"() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  UPDATE "Message" SET "changedAt" = now() AT TIME ZONE 'UTC' WHERE id = COALESCE(NEW."messageId", OLD."messageId");
  RETURN NULL;
END
$$;

CREATE TRIGGER "Reaction_touch_message" AFTER INSERT OR DELETE ON "Reaction"
FOR EACH ROW EXECUTE FUNCTION "Reaction_touch_message"();
