-- Group unread counts from sequence numbers (DESIGN.md, "Groups"): every group chat message gets
-- the next number of its group (`Message.seq`, under the group row's lock, `Group.lastSeq`); a
-- member's read position is a number too (`GroupMember.readSeq`). A member's unread count is
-- then lastSeq − readSeq − the messages after readSeq that never count for them
-- (`sentSinceRead`: their own, and messages of others deleted outright) − others' recalled
-- messages after readSeq (looked up only past `Group.recalledSeq`, through a partial index).
-- GROUP_EVENT notices and direct messages take no number. Run with the module's schema as
-- search_path, like every migration of the module.

-- AlterTable
ALTER TABLE "Message" ADD COLUMN "seq" BIGINT;

-- AlterTable
ALTER TABLE "Group" ADD COLUMN "lastSeq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN "recalledSeq" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "GroupMember" ADD COLUMN "readSeq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN "sentSinceRead" INTEGER NOT NULL DEFAULT 0;

-- Backfill: the group chat messages stored so far, numbered per group in (createdAt, id) order,
-- the order history shows them in; a read position is the newest of them at or before readAt.
UPDATE "Message" m SET "seq" = n.seq
FROM (
  SELECT id, row_number() OVER (PARTITION BY "groupId" ORDER BY "createdAt", id) AS seq
  FROM "Message" WHERE "groupId" IS NOT NULL AND "messageType" = 'CHAT' AND "fromUserId" IS NOT NULL
) n
WHERE m.id = n.id;

UPDATE "Group" g SET
  "lastSeq" = coalesce((SELECT max(m."seq") FROM "Message" m WHERE m."groupId" = g.id), 0),
  "recalledSeq" = coalesce((SELECT max(m."seq") FROM "Message" m WHERE m."groupId" = g.id AND m."deletedAt" IS NOT NULL), 0);

UPDATE "GroupMember" gm SET
  "readSeq" = coalesce((SELECT max(m."seq") FROM "Message" m WHERE m."groupId" = gm."groupId" AND m."createdAt" <= gm."readAt"), 0),
  "sentSinceRead" = (SELECT count(*) FROM "Message" m
                     WHERE m."groupId" = gm."groupId" AND m."createdAt" > gm."readAt" AND m."seq" IS NOT NULL
                       AND m."fromUserId" = gm."userId");

-- History pages in (createdAt, id) order; this index replaces the one on (groupId, createdAt).
DROP INDEX "Message_groupId_createdAt_idx";

-- CreateIndex
CREATE INDEX "Message_groupId_createdAt_id_idx" ON "Message"("groupId", "createdAt", "id");

-- Recalled group messages (few), for the unread counts. Partial: Prisma's schema cannot express
-- it (prisma/friendchat/schema.prisma names it in a comment).
CREATE INDEX "Message_groupId_seq_recalled_idx" ON "Message"("groupId", "seq") WHERE "deletedAt" IS NOT NULL;
