-- Rich messages (DESIGN.md, "Rich messages"): uploads (Attachment), and messages that carry one
-- (attachmentId, at most one message per upload) or a location, with the kind the client renders.
-- Run with the module's schema as search_path, like every migration of the module.

-- AlterTable
ALTER TABLE "Message" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'text',
ADD COLUMN "attachmentId" UUID,
ADD COLUMN "location" JSONB;

-- CreateTable
CREATE TABLE "Attachment" (
    "id" UUID NOT NULL,
    "uploaderId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "mime" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "width" INTEGER,
    "height" INTEGER,
    "durationMs" INTEGER,
    "storageKey" TEXT NOT NULL,
    "thumbKey" TEXT,
    "thumbMime" TEXT,
    "thumbSize" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" TIMESTAMP(3),

    CONSTRAINT "Attachment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModuleSecret" (
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "ModuleSecret_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE UNIQUE INDEX "Message_attachmentId_key" ON "Message"("attachmentId");

-- CreateIndex
CREATE INDEX "Attachment_sentAt_createdAt_idx" ON "Attachment"("sentAt", "createdAt");

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_attachmentId_fkey" FOREIGN KEY ("attachmentId") REFERENCES "Attachment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- A message deleted outright (a deleted user's conversations, with `messages: 'delete'`) hands its
-- upload back as unsent, so the cleanup job deletes it like any upload never sent. (A recall is
-- a soft delete; the module deletes the upload itself then.) The function keeps the module's
-- schema as its search_path, whatever the caller's.
CREATE FUNCTION "Message_release_attachment"() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  UPDATE "Attachment" SET "sentAt" = NULL WHERE id = OLD."attachmentId";
  RETURN NULL;
END
$$;

CREATE TRIGGER "Message_release_attachment" AFTER DELETE ON "Message"
FOR EACH ROW WHEN (OLD."attachmentId" IS NOT NULL) EXECUTE FUNCTION "Message_release_attachment"();
