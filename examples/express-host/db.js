// The host's own database: PostgreSQL (DATABASE_URL) or embedded PGlite, plain SQL, integer ids.
// Its tables (users, friendships, likes) live in `public`; friend-chat keeps its own in the
// `friendchat` schema of the same database.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id            SERIAL PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS friendships (
  user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  friend_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, friend_id)
);
CREATE TABLE IF NOT EXISTS likes (
  id         SERIAL PRIMARY KEY,
  from_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  to_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);`;

/** Example users (password `password123`); ada–bo and bo–cy are friends, ada and cy are not. */
const SEED_USERS = [
  ['ada', 'Ada Lovelace'],
  ['bo', 'Bo Peep'],
  ['cy', 'Cy Young'],
];
const SEED_FRIENDS = [
  ['ada', 'bo'],
  ['bo', 'cy'],
];

export function hashPassword(password) {
  const salt = randomBytes(16).toString('hex');
  return `${salt}:${scryptSync(password, salt, 32).toString('hex')}`;
}

export function checkPassword(password, stored) {
  const [salt, hash] = stored.split(':');
  return timingSafeEqual(Buffer.from(hash, 'hex'), scryptSync(password, salt, 32));
}

/**
 * Opens the host's database. `query(text, params)` answers `{ rows }` on both drivers;
 * `transaction(fn)` runs fn(tx) in one transaction, where `tx.query` has the same shape
 * (friend-chat's `notifications.store(tx, …)` takes such a tx).
 */
export async function openHostDatabase({ databaseUrl, pgliteDir }) {
  let db;
  if (databaseUrl) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
    db = {
      pglite: null,
      query: (text, params) => pool.query(text, params),
      async transaction(fn) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn(client);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  } else {
    const pglite = await PGlite.create(pgliteDir);
    db = {
      pglite,
      query: (text, params) => pglite.query(text, params),
      transaction: (fn) => pglite.transaction(fn),
      close: () => pglite.close(),
    };
  }
  for (const statement of SCHEMA.split(';').filter((s) => s.trim())) await db.query(statement);
  const { rows } = await db.query('SELECT count(*)::int AS n FROM users');
  if (rows[0].n === 0) await seed(db);
  return db;
}

async function seed(db) {
  const ids = {};
  for (const [username, displayName] of SEED_USERS) {
    const { rows } = await db.query('INSERT INTO users (username, display_name, password_hash) VALUES ($1, $2, $3) RETURNING id', [
      username,
      displayName,
      hashPassword('password123'),
    ]);
    ids[username] = rows[0].id;
  }
  for (const [a, b] of SEED_FRIENDS) await addFriendship(db, ids[a], ids[b]);
}

/** Friendship is symmetric here: one row each way. */
export async function addFriendship(db, a, b) {
  await db.query('INSERT INTO friendships (user_id, friend_id) VALUES ($1, $2), ($2, $1) ON CONFLICT DO NOTHING', [a, b]);
}
