// A seed-style baseline: the chat a team following an Express + Socket.IO + PostgreSQL tutorial
// would write. Its own tables (users, friendships, messages) in DATABASE_URL, a default pg Pool;
// per message one friendship SELECT, one INSERT … RETURNING, then the push to the partner's room
// and the ack. No batching, no caches, no rate limit, no validation beyond the friendship. The
// token is the user id, as in relay.ts. Users are seeded as friend pairs (0-1, 2-3, …).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { Server } from 'socket.io';

const users = Number(process.env.BENCH_USERS ?? 1000);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });

await pool.query(`
  CREATE TABLE IF NOT EXISTS users (
    id SERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE TABLE IF NOT EXISTS friendships (
    user_id INT NOT NULL REFERENCES users(id),
    friend_id INT NOT NULL REFERENCES users(id),
    PRIMARY KEY (user_id, friend_id)
  );
  CREATE TABLE IF NOT EXISTS messages (
    id SERIAL PRIMARY KEY,
    sender_id INT NOT NULL REFERENCES users(id),
    receiver_id INT NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    client_id TEXT,
    is_read BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
`);
const { rows } = await pool.query<{ id: number }>(
  `INSERT INTO users (username) SELECT 'bench_' || i FROM generate_series(0, $1::int - 1) i ORDER BY i RETURNING id`,
  [users],
);
const ids = rows.map((r) => r.id).sort((a, b) => a - b);
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i + 1 < ids.length; i += 2) {
  a.push(ids[i]!, ids[i + 1]!);
  b.push(ids[i + 1]!, ids[i]!);
}
await pool.query(`INSERT INTO friendships (user_id, friend_id) SELECT * FROM unnest($1::int[], $2::int[])`, [a, b]);

const app = express();
app.use(express.json());
app.get('/health', (_req, res) => {
  res.json({ ok: true });
});
const http = createServer(app);
const io = new Server(http, { serveClient: false });

io.use((socket, next) => {
  socket.data.userId = String(socket.handshake.auth.token);
  next();
});

interface MessageRow {
  id: number;
  sender_id: number;
  receiver_id: number;
  content: string;
  client_id: string | null;
  is_read: boolean;
  created_at: Date;
}

io.on('connection', (socket) => {
  const me = socket.data.userId as string;
  void socket.join(me);
  socket.on('chat:send', async (p: { to: string; content: string; clientId: string }, ack: (r: unknown) => void) => {
    try {
      const friends = await pool.query('SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2', [me, p.to]);
      if (friends.rowCount === 0) return ack({ ok: false, error: { code: 'FORBIDDEN' } });
      const { rows } = await pool.query<MessageRow>(
        'INSERT INTO messages (sender_id, receiver_id, content, client_id) VALUES ($1, $2, $3, $4) RETURNING *',
        [me, p.to, p.content, p.clientId],
      );
      const row = rows[0]!;
      const message = {
        id: String(row.id),
        fromUserId: String(row.sender_id),
        toUserId: String(row.receiver_id),
        groupId: null,
        messageType: 'CHAT',
        content: row.content,
        metadata: {},
        clientId: row.client_id,
        isRead: row.is_read,
        readAt: null,
        createdAt: row.created_at.toISOString(),
      };
      io.to(String(p.to)).emit('chat:message', { message });
      ack({ ok: true, message });
    } catch {
      ack({ ok: false, error: { code: 'INTERNAL' } });
    }
  });
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  const list = ids.map((id) => ({ id: String(id), token: String(id) }));
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}`, users: list }) + '\n');
});
// SIGUSR2: full GC, so the memory benchmark reads live memory only.
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
process.on('SIGTERM', () => {
  io.close();
  void pool.end().finally(() => process.exit(0));
});
