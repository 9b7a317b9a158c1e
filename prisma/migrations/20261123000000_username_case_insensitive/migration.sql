-- Usernames are unique whatever their case: "Alice" and "alice" are one name. Login looks a
-- user up by lower("username"), which this index answers. Prisma's schema language cannot
-- express an index on an expression, so it exists only here (schema.prisma notes it).
--
-- Older databases may hold names that differ only by case. The earliest account of each such
-- group (by "createdAt", then id) keeps its name; every later one is renamed to its name with
-- the first free suffix "-2", "-3", … (the name cut so the result fits the 32 characters a
-- username may have). Nothing else about those accounts changes.
DO $$
DECLARE
  r record;
  n integer;
  candidate text;
BEGIN
  FOR r IN
    SELECT id, username FROM (
      SELECT id, username,
             row_number() OVER (PARTITION BY lower(username) ORDER BY "createdAt", id) AS rank
      FROM "User"
    ) ranked
    WHERE rank > 1
    ORDER BY lower(username), rank
  LOOP
    n := 2;
    LOOP
      candidate := left(r.username, 32 - length('-' || n)) || '-' || n;
      EXIT WHEN NOT EXISTS (SELECT 1 FROM "User" WHERE lower(username) = lower(candidate));
      n := n + 1;
    END LOOP;
    UPDATE "User" SET username = candidate WHERE id = r.id;
  END LOOP;
END $$;

-- CreateIndex
CREATE UNIQUE INDEX "User_username_lower_key" ON "User"(lower("username"));
