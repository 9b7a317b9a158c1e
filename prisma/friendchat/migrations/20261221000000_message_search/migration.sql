-- Message search (DESIGN.md, "Message lifecycle" → Search; backend/src/chat/search.ts): trigram
-- indexes for `content ILIKE '%q%'` and `name ILIKE '%q%'`. Run with the module's schema as
-- search_path, like every migration of the module.
--
-- The indexes need the pg_trgm extension, which is optional: search gives the same answers
-- without them (it reads the caller's own conversations through their existing indexes), only
-- slower for rare words. So this migration never fails over the extension:
-- - already installed (by the host, in any schema): used where it is;
-- - available and the role may create it (it is a trusted extension from PostgreSQL 13 on, so a
--   database owner without superuser may): created in the module's schema;
-- - not available (PGlite without its `pg_trgm` contrib loaded) or not permitted: no index, a
--   notice says why. Re-running this file later (a new migration) would add the indexes then.
-- What I sent, newest first: search reads the caller's own messages in time order when the
-- trigram index cannot help (a query of under three characters; no pg_trgm), and the other
-- sources (to me; each group) have such an index already.
CREATE INDEX "Message_fromUserId_createdAt_idx" ON "Message"("fromUserId", "createdAt");

DO $$
DECLARE
  trgm_schema text;
BEGIN
  SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  IF trgm_schema IS NULL AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
      SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'friend-chat: pg_trgm not installed (%); message search works without its index', SQLERRM;
    END;
  ELSIF trgm_schema IS NULL THEN
    RAISE NOTICE 'friend-chat: pg_trgm is not available; message search works without its index';
  END IF;
  IF trgm_schema IS NOT NULL THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS "Message_content_trgm_idx" ON "Message" USING gin (content %I.gin_trgm_ops)', trgm_schema);
    EXECUTE format('CREATE INDEX IF NOT EXISTS "Attachment_name_trgm_idx" ON "Attachment" USING gin (name %I.gin_trgm_ops)', trgm_schema);
  END IF;
END $$;
