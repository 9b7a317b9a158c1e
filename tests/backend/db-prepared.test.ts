// The module's hot statements as named prepared statements on PostgreSQL (db/database.ts,
// `prepared`), and the opt-out for poolers that cannot keep them (`preparedStatements: false`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { openHostDatabase, type HostDatabase } from '../../backend/src/host/db.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

// Lists the named prepared statements of the session it runs on, this one included once prepared.
const MINE = `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'fc\\_%' AND statement LIKE '%pg_prepared_statements%'`;

describe.each(dbTargets())('prepared statements on %s', (target) => {
  let tdb: TestDatabase;
  let host: HostDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    host = await openHostDatabase({ databaseUrl: tdb.url, pgliteDir: tdb.pgliteDir });
    db = await openDatabase(host.source, { schema: 'friendchat' });
  });
  afterAll(async () => {
    await db?.close();
    await host?.close();
    await tdb?.drop();
  });

  it('answers as plain SQL does, run after run (past the switch to a generic plan)', async () => {
    for (let i = 0; i < 8; i++) {
      const rows = await db.prepared<{ n: number; s: string }>('SELECT $1::int * 2 AS n, $2::text AS s', [i, `run ${i}`]);
      expect(rows).toEqual([{ n: i * 2, s: `run ${i}` }]);
    }
    const ids = ['a', 'b'];
    expect(await db.prepared('SELECT unnest($1::text[]) AS id ORDER BY 1', [ids])).toEqual(await db.sql('SELECT unnest($1::text[]) AS id ORDER BY 1', [ids]));
  });

  it.runIf(target === 'postgres')('is a named prepared statement on PostgreSQL, and plain SQL with preparedStatements: false', async () => {
    expect(await db.prepared(MINE)).toEqual([{ n: 1 }]);
    const plain = await openDatabase({ url: tdb.url!, preparedStatements: false }, { schema: 'friendchat' });
    try {
      expect(await plain.prepared(MINE)).toEqual([{ n: 0 }]);
    } finally {
      await plain.close();
    }
  });
});
