-- The module's tables, created in the module's schema: the migrator runs this with
-- `SET LOCAL search_path TO "<schema>"`, so names here are unqualified.

-- CreateTable
CREATE TABLE "Message" (
    "id" UUID NOT NULL,
    "fromUserId" TEXT,
    "toUserId" TEXT NOT NULL,
    "messageType" TEXT NOT NULL DEFAULT 'CHAT',
    "content" TEXT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "clientId" TEXT,
    "isRead" BOOLEAN NOT NULL DEFAULT false,
    "readAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMP(3),

    CONSTRAINT "Message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UserPresence" (
    "userId" TEXT NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "UserPresence_pkey" PRIMARY KEY ("userId")
);

-- CreateIndex
CREATE INDEX "Message_toUserId_isRead_idx" ON "Message"("toUserId", "isRead");

-- CreateIndex
CREATE INDEX "Message_fromUserId_toUserId_createdAt_idx" ON "Message"("fromUserId", "toUserId", "createdAt");

-- CreateIndex
CREATE INDEX "Message_toUserId_createdAt_idx" ON "Message"("toUserId", "createdAt");

-- CreateIndex
CREATE INDEX "Message_messageType_idx" ON "Message"("messageType");

-- CreateIndex
CREATE UNIQUE INDEX "Message_fromUserId_clientId_key" ON "Message"("fromUserId", "clientId");

-- Upgrade in place from the version that kept everything in `public` (round 1 of friend-chat):
-- only when public._prisma_migrations records OUR round-1 migration with its exact checksum,
-- so a host's own table that happens to be called "Message" is never read. Messages (chat and
-- system, read state, deletions, clientIds) and lastSeenAt are copied here; the demo host's
-- next migration then drops them from `public`.
DO $$
DECLARE
  ours boolean := false;
BEGIN
  -- Dynamic SQL throughout: a statement naming a table that does not exist fails when planned.
  IF to_regclass('public._prisma_migrations') IS NOT NULL AND to_regclass('public."Message"') IS NOT NULL THEN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM public._prisma_migrations
               WHERE migration_name = ''20261122000000_init''
                 AND checksum = ''ec93dd333bc56a3fc10e2b4647f1689cfe926c76e20c3813771ef4c805dccf2b''
                 AND finished_at IS NOT NULL AND rolled_back_at IS NULL)' INTO ours;
  END IF;
  IF ours THEN
    EXECUTE 'INSERT INTO "Message" (id, "fromUserId", "toUserId", "messageType", content, metadata, "clientId", "isRead", "readAt", "createdAt", "deletedAt")
             SELECT id, "fromUserId"::text, "toUserId"::text, "messageType"::text, content, metadata, "clientId", "isRead", "readAt", "createdAt", "deletedAt"
             FROM public."Message"';
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = 'public' AND table_name = 'User' AND column_name = 'lastSeenAt') THEN
      EXECUTE 'INSERT INTO "UserPresence" ("userId", "lastSeenAt")
               SELECT id::text, "lastSeenAt" FROM public."User" WHERE "lastSeenAt" IS NOT NULL';
    END IF;
  END IF;
END $$;
