// The example host: an Express app with its own users (integer ids), its own login and JWTs, its
// own Socket.IO server, and friend-chat plugged in through `friend-chat/server`.
// docs/embedding.md in the friend-chat repository walks through this file step by step.
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import jwt from 'jsonwebtoken';
import { Server } from 'socket.io';
import { createFriendChat } from 'friend-chat/server';
import { addFriendship, checkPassword, openHostDatabase } from './db.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A host user as friend-chat shows them: the integer id as a string. */
const toChatUser = (row) => ({ id: String(row.id), username: row.username, displayName: row.display_name, avatarUrl: null });
/** A user id from friend-chat (or a URL) back to the host's integer, or null. */
const toHostId = (id) => (/^[1-9][0-9]{0,8}$/.test(String(id)) ? Number(id) : null);

export async function startHost({ port = 3100, host = '127.0.0.1', databaseUrl, pgliteDir = './data', jwtSecret }) {
  if (!jwtSecret) throw new Error('jwtSecret is required');
  // 1. The host's own database and tables.
  const db = await openHostDatabase({ databaseUrl, pgliteDir });

  // 2. The host's own identity: HS256 JWTs with the user id as `sub`.
  const sign = (userId) => jwt.sign({ sub: String(userId) }, jwtSecret, { algorithm: 'HS256', expiresIn: '7d' });
  const verify = (token) => {
    try {
      const { sub } = jwt.verify(token, jwtSecret, { algorithms: ['HS256'] });
      return toHostId(sub);
    } catch {
      return null;
    }
  };
  const userById = async (id) => (await db.query('SELECT id, username, display_name FROM users WHERE id = $1', [id])).rows[0];
  /** A session: a valid token of a user who still exists (a deleted account's tokens stop working). */
  const session = async (token) => {
    const id = verify(token);
    return id !== null && (await userById(id)) ? id : null;
  };

  // 3. friend-chat: its tables in the `friendchat` schema of the same database (the same PGlite
  //    instance, or its own pool on DATABASE_URL); identity, users and friends from the host.
  const chat = await createFriendChat({
    database: databaseUrl ? { url: databaseUrl } : { pglite: db.pglite },
    identify: async (token) => {
      const id = await session(token);
      return id === null ? null : String(id);
    },
    users: {
      async byIds(ids) {
        const ints = ids.map(toHostId).filter((id) => id !== null);
        const { rows } = await db.query('SELECT id, username, display_name FROM users WHERE id = ANY($1::int[])', [ints]);
        return rows.map(toChatUser);
      },
    },
    friends: {
      async areFriends(a, b) {
        const { rows } = await db.query('SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2', [toHostId(a), toHostId(b)]);
        return rows.length > 0;
      },
      async friendIds(userId) {
        const { rows } = await db.query('SELECT friend_id FROM friendships WHERE user_id = $1', [toHostId(userId)]);
        return rows.map((r) => String(r.friend_id));
      },
      // Optional: many users' friends in one query (presence changes are announced in batches).
      async friendIdsMany(userIds) {
        const ints = userIds.map(toHostId).filter((id) => id !== null);
        const { rows } = await db.query('SELECT user_id, friend_id FROM friendships WHERE user_id = ANY($1::int[])', [ints]);
        const friends = new Map(userIds.map((id) => [id, []]));
        for (const r of rows) friends.get(String(r.user_id))?.push(String(r.friend_id));
        return friends;
      },
    },
  });

  const app = express();
  app.use(express.json());

  // 4. The host's own routes: login, who am I, likes, friendships.
  const auth = async (req, res, next) => {
    const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    const userId = token ? await session(token) : null;
    if (userId === null) return void res.status(401).json({ error: 'sign in first' });
    req.userId = userId;
    next();
  };

  app.post('/api/login', async (req, res) => {
    const { username, password } = req.body ?? {};
    const { rows } = await db.query('SELECT * FROM users WHERE username = $1', [String(username ?? '')]);
    if (!rows[0] || !checkPassword(String(password ?? ''), rows[0].password_hash)) return void res.status(401).json({ error: 'wrong username or password' });
    res.json({ token: sign(rows[0].id), user: toChatUser(rows[0]) });
  });

  app.get('/api/me', auth, async (req, res) => {
    res.json({ user: toChatUser(await userById(req.userId)) });
  });

  // A like is the host's own event; friend-chat delivers it as a notification of the host's own type.
  app.post('/api/users/:id/like', auth, async (req, res) => {
    const target = toHostId(req.params.id);
    const liked = target === null ? undefined : await userById(target);
    if (!liked || liked.id === req.userId) return void res.status(404).json({ error: 'no such user' });
    const me = await userById(req.userId);
    await db.query('INSERT INTO likes (from_id, to_id) VALUES ($1, $2)', [me.id, liked.id]);
    const notification = await chat.notify(String(liked.id), {
      type: 'SYSTEM_LIKE',
      content: `${me.display_name} liked your profile`,
      metadata: { from: toChatUser(me) },
    });
    res.status(201).json({ notification });
  });

  // Becoming friends: the friendship rows and the SYSTEM_FRIEND notification commit together,
  // in the host's own transaction; then the notification is pushed and friend-chat told.
  app.put('/api/friendships/:id', auth, async (req, res) => {
    const target = toHostId(req.params.id);
    const friend = target === null ? undefined : await userById(target);
    if (!friend || friend.id === req.userId) return void res.status(404).json({ error: 'no such user' });
    const me = await userById(req.userId);
    const stored = await db.transaction(async (tx) => {
      await addFriendship(tx, me.id, friend.id);
      return chat.notifications.store(tx, String(friend.id), { type: 'SYSTEM_FRIEND', content: '', metadata: { friend: toChatUser(me) } });
    });
    await chat.notifications.publish(stored);
    await chat.friendsChanged(String(me.id), String(friend.id));
    res.json({ friend: toChatUser(friend) });
  });

  app.delete('/api/friendships/:id', auth, async (req, res) => {
    const target = toHostId(req.params.id);
    if (target === null) return void res.status(404).json({ error: 'no such user' });
    await db.query('DELETE FROM friendships WHERE (user_id = $1 AND friend_id = $2) OR (user_id = $2 AND friend_id = $1)', [req.userId, target]);
    await chat.friendsChanged(String(req.userId), String(target));
    res.status(204).end();
  });

  // Deleting an account: the host's rows go (friendships and likes by cascade), then friend-chat
  // is told. It closes the user's sockets and drops what it kept of them; their friends keep
  // the conversations, the user shown as "Deleted user".
  app.delete('/api/me', auth, async (req, res) => {
    await db.query('DELETE FROM users WHERE id = $1', [req.userId]);
    await chat.userDeleted(String(req.userId));
    res.status(204).end();
  });

  // 5. friend-chat's HTTP API beside the host's: /api/messages…, /api/friends (GET), /api/groups…,
  //    /api/mutes…, /api/uploads, /api/attachments….
  app.use('/api', chat.router);

  // The page (npm run build → dist/).
  const dist = path.join(here, 'dist');
  if (existsSync(dist)) app.use(express.static(dist));

  // 6. The host's own Socket.IO server: '/' counts the visitors of the page; friend-chat gets '/chat'.
  const httpServer = createServer(app);
  const io = new Server(httpServer);
  let visitors = 0;
  io.on('connection', (socket) => {
    io.emit('visitors', ++visitors);
    socket.on('disconnect', () => io.emit('visitors', --visitors));
  });
  chat.attach(io, { namespace: '/chat' });

  await new Promise((resolve) => httpServer.listen(port, host, resolve));
  const url = `http://${host}:${httpServer.address().port}`;

  let closing = null;
  return {
    url,
    close() {
      closing ??= (async () => {
        await new Promise((resolve) => io.close(() => resolve()));
        await chat.close();
        await db.close();
      })();
      return closing;
    },
  };
}
