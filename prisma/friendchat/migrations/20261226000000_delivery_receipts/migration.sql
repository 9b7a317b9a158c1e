-- Delivered receipts get a narrow table of their own (issue 14: acks cost the send path too much).
-- A receipt stored as "Message"."deliveredAt" moved the indexed "changedAt": an update that is not
-- heap-only, with a new entry in every index of "Message" (the search index's too), a row lock,
-- and the unread counts' statement trigger — about 115 µs per receipt measured alone on an idle
-- PostgreSQL 15 (10 receipts per statement, 200,000 messages). A row in "Delivery" writes three
-- small index entries and leaves the message untouched: about 50 µs the same way.
-- One row per message, the first acknowledgement ever (the primary key keeps it: a later ack
-- inserts nothing). The sender, recipient and group are copied from the message, so sync finds
-- the receipts of a conversation in receipt order without reading the messages first
-- (backend/src/chat/sql.ts): a message comes once, from whichever of its changes is the latest,
-- its "changedAt" or its receipt. No foreign key to "Message": its check would lock the message
-- row on every receipt. The triggers below remove a message's receipt with it instead; a receipt
-- stored in the very instant its message is deleted can outlive it, and nothing reads it (every
-- reader joins the message).
-- Run with the module's schema as search_path, like every migration of the module.

-- CreateTable
CREATE TABLE "Delivery" (
    "messageId" UUID NOT NULL,
    "deliveredAt" TIMESTAMP(3) NOT NULL,
    "fromUserId" TEXT NOT NULL,
    "toUserId" TEXT,
    "groupId" UUID,

    CONSTRAINT "Delivery_pkey" PRIMARY KEY ("messageId")
);

-- Sync's receipt branches: from me and to me in direct chat, and per group.
CREATE INDEX "Delivery_fromUserId_deliveredAt_idx" ON "Delivery"("fromUserId", "deliveredAt") WHERE "groupId" IS NULL;
CREATE INDEX "Delivery_toUserId_deliveredAt_idx" ON "Delivery"("toUserId", "deliveredAt") WHERE "toUserId" IS NOT NULL;
CREATE INDEX "Delivery_groupId_deliveredAt_idx" ON "Delivery"("groupId", "deliveredAt") WHERE "groupId" IS NOT NULL;

-- The receipts stored so far. Their messages' "changedAt" was moved by them and stays: each such
-- message keeps coming from its change stamp (the later or equal of the two), as before.
INSERT INTO "Delivery" ("messageId", "deliveredAt", "fromUserId", "toUserId", "groupId")
SELECT id, "deliveredAt", "fromUserId", "toUserId", "groupId" FROM "Message"
WHERE "deliveredAt" IS NOT NULL AND "fromUserId" IS NOT NULL;

-- AlterTable
ALTER TABLE "Message" DROP COLUMN "deliveredAt";

-- A message deleted outright (a deleted user's, a host's own SQL) takes its receipt along, in the
-- statement that deletes it; TRUNCATE fires no row or transition trigger, so it has its own.
CREATE FUNCTION "Delivery_forget"() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM "Delivery";
  ELSE
    DELETE FROM "Delivery" d USING old_rows o WHERE d."messageId" = o.id;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Delivery_forget" AFTER DELETE ON "Message"
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Delivery_forget"();
CREATE TRIGGER "Delivery_forget_all" AFTER TRUNCATE ON "Message"
FOR EACH STATEMENT EXECUTE FUNCTION "Delivery_forget"();
