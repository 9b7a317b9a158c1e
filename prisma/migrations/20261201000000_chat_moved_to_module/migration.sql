-- The chat module keeps its messages and lastSeenAt in its own schema (`friendchat`) since
-- this version. Its migration, applied before this one, copied them there from an existing
-- database; here the demo host drops its old copies.

-- DropForeignKey
ALTER TABLE "Message" DROP CONSTRAINT "Message_fromUserId_fkey";

-- DropForeignKey
ALTER TABLE "Message" DROP CONSTRAINT "Message_toUserId_fkey";

-- DropTable
DROP TABLE "Message";

-- DropEnum
DROP TYPE "MessageType";

-- AlterTable
ALTER TABLE "User" DROP COLUMN "lastSeenAt";
