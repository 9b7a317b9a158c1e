-- An index of the unread system messages, by recipient: the unread count's system part
-- (chat/unread.ts) reads only the rows that count, however many notifications a user has read.
-- A chat message never enters it; a system message leaves it when it is read or deleted (those
-- updates write new index entries anyway, since they move the indexed "changedAt").
-- Its predicate is the count's own, so the planner can use it whatever the statistics say. The
-- count once scanned every system message of every user in its generic plan, comparing each
-- row's recipient with every user of the batch (bench/README.md, issue 15); the statement now
-- looks each user up by equality as well (tests/backend/message-indexes.test.ts).
-- Run with the module's schema as search_path, like every migration of the module.

CREATE INDEX "Message_system_unread_idx" ON "Message"("toUserId")
WHERE "fromUserId" IS NULL AND "isRead" = false AND "deletedAt" IS NULL;
