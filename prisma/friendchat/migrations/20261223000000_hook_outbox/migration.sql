-- The `messageSent` outbox (backend/src/chat/outbox.ts): the host's hook runs after the send is
-- answered, not before. A row is written by the statement that stores the message (so a stored
-- message always has its row, and the send costs no extra round trip), and deleted once the hook
-- succeeded. Rows are written only when the host configured `hooks.messageSent`.
-- Run with the module's schema as search_path, like every migration of the module.
--
-- "runAt" is both the lease and the retry schedule: nobody may run the row before it. The node
-- that stored the message holds it for the lease; any node's poller claims a row whose time has
-- come (a node that died holding it, or a retry after a failure) by moving "runAt" past the next
-- lease, under FOR UPDATE SKIP LOCKED. A row whose hook failed every attempt keeps "failedAt"
-- (and "lastError") and is never run again by the module.
-- No foreign key to "Message": a message deleted meanwhile leaves a row the dispatcher drops.

-- CreateTable
CREATE TABLE "HookOutbox" (
    "messageId" UUID NOT NULL,
    "runAt" TIMESTAMP(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "failedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "HookOutbox_pkey" PRIMARY KEY ("messageId")
);

-- The pollers' question: rows due, oldest first, among those still to run.
CREATE INDEX "HookOutbox_runAt_idx" ON "HookOutbox"("runAt") WHERE "failedAt" IS NULL;
