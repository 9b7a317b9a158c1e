-- Delivered receipts of direct messages no longer move the message's change stamp (bench/README.md,
-- "Message lifecycle: delivered acks"; issue 14).
--
-- A receipt stored "deliveredAt" and, through "Message_touch", "changedAt": a column of three sync
-- indexes, so the update could not be heap-only and every index of "Message" (18) got a new entry,
-- ~230 µs of PostgreSQL per delivered row, more than the message's own insert. Now a direct
-- message's receipt changes "deliveredAt" alone (indexed nowhere: a heap-only update) and records
-- the change here instead, for the one reader that needs it: sync (chat/sql.ts), which reads a
-- direct message at GREATEST("changedAt", "deliveredAt") by two indexes (this table's, and
-- "Message"'s (fromUserId or toUserId, changedAt)). A group message's receipt still moves
-- "changedAt": its members read it by the group's index, and it is stored once per message, not
-- once per member. Measured alone (PostgreSQL 15, 10 receipts a statement, no fsync wait): about
-- 100 µs per receipt before, 65 µs after (bench/README.md).
-- Run with the module's schema as search_path, like every migration of the module.

-- One row per delivered direct message: its sender and recipient, the receipt's stamp (the
-- "deliveredAt" stored, the transaction's start time in UTC like every change stamp, so sync's
-- horizon covers receipts in flight exactly as it covers inserts), and the message. Kept by the
-- trigger below, whatever statement stores the receipt; a row whose message is gone is skipped by
-- sync's join. A deleted user's rows go with them (chat/deletedUsers.ts). Both parties' syncs read
-- it: the sender's bubble shows "delivered", and the recipient's other tabs were told live too.
CREATE TABLE "DeliveryChange" (
    "fromUserId" TEXT NOT NULL,
    "toUserId" TEXT NOT NULL,
    "changedAt" TIMESTAMP(3) NOT NULL,
    "messageId" UUID NOT NULL,

    CONSTRAINT "DeliveryChange_pkey" PRIMARY KEY ("fromUserId","changedAt","messageId")
);
CREATE INDEX "DeliveryChange_toUserId_changedAt_messageId_idx" ON "DeliveryChange"("toUserId", "changedAt", "messageId");

-- A direct message's first receipt keeps the row's change stamp (the receipt statement,
-- chat/delivered.ts, changes nothing else: the update is heap-only) and is recorded above instead,
-- by the second trigger, whose condition is the first's negated. (A per-row trigger costs about
-- what an INSERT in the receipt statement does: measured alike.)
DROP TRIGGER "Message_touch" ON "Message";
CREATE TRIGGER "Message_touch" BEFORE UPDATE ON "Message"
FOR EACH ROW WHEN (NOT (OLD."deliveredAt" IS NULL AND NEW."deliveredAt" IS NOT NULL AND NEW."groupId" IS NULL
  AND NEW."toUserId" IS NOT NULL AND NEW."fromUserId" IS NOT NULL))
EXECUTE FUNCTION "Message_touch"();

CREATE FUNCTION "DeliveryChange_record"() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  INSERT INTO "DeliveryChange" ("fromUserId", "toUserId", "changedAt", "messageId")
  VALUES (NEW."fromUserId", NEW."toUserId", NEW."deliveredAt", NEW.id);
  RETURN NULL;
END
$$;

CREATE TRIGGER "DeliveryChange_record" AFTER UPDATE ON "Message"
FOR EACH ROW WHEN (OLD."deliveredAt" IS NULL AND NEW."deliveredAt" IS NOT NULL AND NEW."groupId" IS NULL
  AND NEW."toUserId" IS NOT NULL AND NEW."fromUserId" IS NOT NULL)
EXECUTE FUNCTION "DeliveryChange_record"();
