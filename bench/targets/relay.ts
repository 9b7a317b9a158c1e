// The ceiling: a bare Socket.IO relay with the same events and payloads as the app, but no
// database, no auth check beyond reading the user id, no rules. Same client, same run.
// BENCH_GROUP=1: every socket is in one group room too, and a send with a `groupId` goes to that
// room (all but the sender), as the app does.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { createClient } from 'redis';
import { createAdapter } from '@socket.io/redis-adapter';

const users = Number(process.env.BENCH_USERS ?? 1000);
const http = createServer();
const io = new Server(http, { serveClient: false });
if (process.env.REDIS_URL) {
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}
io.use((socket, next) => {
  socket.data.userId = String(socket.handshake.auth.token);
  next();
});
const GROUP_ID = '00000000-0000-4000-8000-0000000000aa';
const groupRoom = `group:${GROUP_ID}`;
io.on('connection', (socket) => {
  const me = socket.data.userId as string;
  void socket.join(process.env.BENCH_GROUP === '1' ? [me, groupRoom] : me);
  socket.on('chat:send', (p: { to?: string; groupId?: string; content: string; clientId: string }, ack: (r: unknown) => void) => {
    if (p.groupId) {
      const message = {
        id: randomUUID(),
        fromUserId: me,
        toUserId: null,
        groupId: p.groupId,
        messageType: 'CHAT',
        content: p.content,
        metadata: {},
        clientId: p.clientId,
        isRead: false,
        readAt: null,
        createdAt: new Date().toISOString(),
      };
      socket.to(groupRoom).emit('chat:message', { message });
      ack({ ok: true, message });
      return;
    }
    const message = {
      id: randomUUID(),
      fromUserId: me,
      toUserId: p.to!,
      groupId: null,
      messageType: 'CHAT',
      content: p.content,
      metadata: {},
      clientId: p.clientId,
      isRead: false,
      readAt: null,
      createdAt: new Date().toISOString(),
    };
    io.to(p.to!).emit('chat:message', { message });
    socket.to(me).emit('chat:message', { message });
    ack({ ok: true, message });
  });
});
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  const list = Array.from({ length: users }, (_, i) => {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    return { id, token: id };
  });
  const groupId = process.env.BENCH_GROUP === '1' ? GROUP_ID : undefined;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}`, groupId, users: list }) + '\n');
});
// SIGUSR2: full GC, so the memory benchmark reads live memory only.
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
