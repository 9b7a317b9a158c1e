// Issue 15: clients that missed pushes (Redis away, a publish that failed) reconnect and sync.
// Here on one node with a stand-in for its Redis connections, so it runs without Redis;
// faults.test.ts runs it on two nodes with real Redis.
import { encode } from 'notepack.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import type { RedisConnections } from '../../backend/src/realtime/redis.ts';
import { createResync, recoverMissedPushes, roomsOfBroadcast } from '../../backend/src/realtime/resync.ts';
import type { ChatNamespace } from '../../backend/src/realtime/socketServer.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { quietPeriod, waitUntil } from '../helpers/chat.ts';

const silent = { error: () => {}, info: () => {}, debug: () => {} };
const dropped = (tab: ClientSocket) => new Promise<string>((resolve) => tab.once('disconnect', resolve));

describe('the rooms of a broadcast the Redis adapter failed to publish', () => {
  // The adapter's own encoding: publishes of a real adapter, caught on their way out.
  const published: [string, Buffer][] = [];
  const client = {
    publish: (channel: string, message: Buffer) => published.push([channel, message]),
    pSubscribe: () => Promise.resolve(),
    subscribe: () => Promise.resolve(),
    on: () => {},
  };
  const io = new Server(); // attached to no HTTP server: nothing to close
  const nsp = io.of('/');
  const adapter = createAdapter(client, client, { key: 'fc:socket.io' })(nsp);
  const channel = 'fc:socket.io#/#';
  const lastRooms = () => roomsOfBroadcast(...published.at(-1)!, channel);

  it('reads them from the channel (one room) or the message (several), and answers every socket when it names none', () => {
    adapter.broadcast({ type: 2, data: ['chat:message', { x: 1 }], nsp: '/' }, { rooms: new Set(['u1']), except: new Set() });
    expect(lastRooms()).toEqual(['u1']);
    adapter.broadcast({ type: 2, data: ['chat:message', { x: 1 }], nsp: '/' }, { rooms: new Set(['u1', 'group:g#1']), except: new Set(['s1']) });
    expect(lastRooms()).toEqual(['u1', 'group:g#1']);
    adapter.broadcast({ type: 2, data: ['notice'], nsp: '/' }, { rooms: new Set(), except: new Set() });
    expect(lastRooms()).toBe('all');
    expect(roomsOfBroadcast(channel, Buffer.from('not MessagePack'), channel)).toBe('all');
  });

  it('answers null for what is not a broadcast of this namespace', () => {
    expect(roomsOfBroadcast('fc:socket.io-request#/#', encode({ type: 1 }), channel)).toBeNull();
    expect(roomsOfBroadcast('fc:socket.io#/other#u1#', encode([]), channel)).toBeNull();
    expect(roomsOfBroadcast('fc:resync', '{}', channel)).toBeNull();
  });
});

describe('closing the connections of the clients that missed pushes', () => {
  let s: TestServer;
  let nsp: ChatNamespace;
  let users: TestUser[];
  beforeAll(async () => {
    s = await startServer({ target: 'pglite' });
    nsp = s.app.io.of('/') as unknown as ChatNamespace;
    users = [await s.register(), await s.register(), await s.register()];
  });
  afterAll(async () => s?.close());

  it('closes the transport of the sockets in the given rooms only (the client reconnects by itself), once each', async () => {
    const [alice, bob, carol] = users as [TestUser, TestUser, TestUser];
    const tabs = [await s.connect(alice), await s.connect(alice), await s.connect(bob)];
    const carolTab = await s.connect(carol);
    let carolDropped = false;
    carolTab.once('disconnect', () => (carolDropped = true));
    const resync = createResync(nsp);
    const reasons = Promise.all(tabs.map(dropped));
    expect(resync.sockets([alice.id, bob.id])).toBe(3);
    expect(resync.sockets([bob.id])).toBe(0); // already on its way
    // Not "io server disconnect", after which Socket.IO clients do not reconnect on their own.
    expect(await reasons).toEqual(['transport close', 'transport close', 'transport close']);
    await quietPeriod();
    expect(carolDropped).toBe(false);
    carolTab.disconnect();
    resync.close();
  });

  it('closes every socket of the node when its subscription comes back, and those a hint of another node names', async () => {
    const [alice, bob, carol] = users as [TestUser, TestUser, TestUser];
    const back: (() => void)[] = [];
    const onDropped: ((channel: string, message: string | Buffer) => void)[] = [];
    const listeners = new Map<string, (message: string) => void>();
    const hints: string[] = [];
    const pub = { isReady: true, publish: async (_channel: string, message: string) => void hints.push(message) };
    const redis = {
      pub,
      sub: { subscribe: async (channel: string, listener: (message: string) => void) => void listeners.set(channel, listener) },
      onSubscriberBack: (h: () => void) => back.push(h),
      onPublishDropped: (h: (channel: string, message: string | Buffer) => void) => onDropped.push(h),
    } as unknown as RedisConnections;
    const recovery = recoverMissedPushes({ nsp, redis, prefix: 'p:', nodeId: 'n1', adapterChannel: 'p:socket.io#/#', logger: silent, onError: () => {} });
    await waitUntil(() => listeners.has('p:resync'));

    let tabs = [await s.connect(alice), await s.connect(bob)];
    const reasons = Promise.all(tabs.map(dropped));
    for (const h of back) h();
    expect(await reasons).toEqual(['transport close', 'transport close']);

    // Another node's hint names bob: his tab goes, carol's stays; a hint of this node's own is not for it.
    tabs = [await s.connect(bob), await s.connect(carol)];
    let carolDropped = false;
    tabs[1]!.once('disconnect', () => (carolDropped = true));
    const bobDropped = dropped(tabs[0]!);
    listeners.get('p:resync')!(JSON.stringify({ node: 'n1', namespace: '/', rooms: [carol.id] }));
    listeners.get('p:resync')!(JSON.stringify({ node: 'n2', namespace: '/', rooms: [bob.id] }));
    expect(await bobDropped).toBe('transport close');
    await quietPeriod();
    expect(carolDropped).toBe(false);
    tabs[1]!.disconnect();

    // This node's failed publishes: one hint names their rooms; a hint that fails too is sent again.
    for (const h of onDropped) h('p:socket.io#/#', encode(['uid', { type: 2, data: ['x'] }, { rooms: [alice.id, bob.id], except: [] }]));
    for (const h of onDropped) h(`p:socket.io#/#${carol.id}#`, encode(['uid', { type: 2, data: ['x'] }, { rooms: [carol.id], except: [] }]));
    for (const h of onDropped) h('p:socket.io-request#/#', encode({ type: 1 })); // not a push
    await waitUntil(() => hints.length === 1, 5000, 'the hint');
    const hint = JSON.parse(hints[0]!) as { node: string; namespace: string; rooms: string[] };
    expect({ ...hint, rooms: [...hint.rooms].sort() }).toEqual({ node: 'n1', namespace: '/', rooms: [alice.id, bob.id, carol.id].sort() });
    for (const h of onDropped) h('p:resync', hints[0]!);
    await waitUntil(() => hints.length === 2, 5000, 'the hint sent again');
    expect(JSON.parse(hints[1]!)).toEqual(hint);
    recovery.close();
  });
});
