-- Message search, the queries a trigram index cannot answer (backend/src/chat/search.ts; bench/README.md,
-- "Message search"). Plain PostgreSQL, no extension: it applies with or without pg_trgm, and in PGlite.
--
-- Two characters of Chinese (or of any other non-ASCII script): "cjk_bigrams" lists every pair of
-- neighbouring non-ASCII characters of a text, and a GIN index over it answers `@> '{熊猫}'` for any
-- text that holds "熊猫" (its rows are then checked with LIKE). Only texts with a non-ASCII character
-- are in the index (the partial predicate), so an English message costs the index nothing.
-- PL/pgSQL rather than SQL: the same list, measured three times cheaper per message.
CREATE OR REPLACE FUNCTION "cjk_bigrams"(t text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  pairs text[];
  prev text;
  c text;
BEGIN
  IF octet_length(t) = length(t) THEN
    RETURN NULL; -- ASCII only
  END IF;
  FOREACH c IN ARRAY string_to_array(t, NULL) LOOP
    IF ascii(c) < 128 THEN
      prev := NULL;
    ELSE
      IF prev IS NOT NULL THEN
        pairs := pairs || (prev || c);
      END IF;
      prev := c;
    END IF;
  END LOOP;
  RETURN pairs;
END $$;

CREATE INDEX IF NOT EXISTS "Message_content_bigram_idx" ON "Message" USING gin ("cjk_bigrams"(content)) WHERE octet_length(content) <> length(content);
CREATE INDEX IF NOT EXISTS "Attachment_name_bigram_idx" ON "Attachment" USING gin ("cjk_bigrams"(name)) WHERE octet_length(name) <> length(name);

-- File names: the messages with a file, per source and newest first, so that a name matched by
-- too many files in the whole table is looked for among the caller's files only (one message in
-- twenty in the benchmark) instead of among all of the caller's messages.
CREATE INDEX IF NOT EXISTS "Message_fromUserId_createdAt_file_idx" ON "Message"("fromUserId", "createdAt") WHERE "attachmentId" IS NOT NULL;
CREATE INDEX IF NOT EXISTS "Message_toUserId_createdAt_file_idx" ON "Message"("toUserId", "createdAt") WHERE "attachmentId" IS NOT NULL;
CREATE INDEX IF NOT EXISTS "Message_groupId_createdAt_file_idx" ON "Message"("groupId", "createdAt") WHERE "attachmentId" IS NOT NULL;
