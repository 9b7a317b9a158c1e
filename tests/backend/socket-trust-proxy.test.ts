// Issue 11, point 5: the socket handshake reads the client's address (MAX_SOCKETS_PER_ADDRESS)
// and host (the Origin check) by the demo's TRUST_PROXY, exactly as Express reads them for HTTP
// (`req.ip`, `req.host`), not by a loopback rule of its own.
import type { IncomingMessage } from 'node:http';
import express from 'express';
import { io as ioClient, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../backend/src/config.ts';
import { compileTrustProxy } from '../../backend/src/http/server.ts';
import { clientAddress, originAllowed } from '../../backend/src/realtime/handshake.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer } from '../helpers/server.ts';

/** TRUST_PROXY as an operator writes it, through the configuration's parser. */
const trustProxy = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;

describe('the handshake reads TRUST_PROXY as Express does', () => {
  const values = ['loopback', 'false', 'true', '1', '2', '10.0.0.0/8', 'loopback, 10.0.0.0/8', 'uniquelocal'];
  const peers = ['127.0.0.1', '::ffff:127.0.0.1', '::1', '10.1.2.3', '203.0.113.5'];
  const chains = [undefined, '198.51.100.1', '198.51.100.1, 10.9.9.9', '198.51.100.1, 10.9.9.9, 127.0.0.1'];

  /** The same request as Node hands it to Socket.IO and as Express sees it. */
  function requests(value: string, peer: string, xff: string | undefined) {
    const headers: Record<string, string> = { host: 'app.internal:3000', 'x-forwarded-host': 'chat.example', origin: 'https://chat.example' };
    if (xff !== undefined) headers['x-forwarded-for'] = xff;
    const raw = { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
    const app = express().set('trust proxy', trustProxy(value));
    const req = Object.assign(Object.create(app.request) as express.Request, { socket: raw.socket, headers });
    return { raw, req };
  }

  it.each(values)('TRUST_PROXY=%s: the same client address and host for every peer and X-Forwarded-For', (value) => {
    const trusted = compileTrustProxy(trustProxy(value));
    for (const peer of peers) {
      for (const xff of chains) {
        const { raw, req } = requests(value, peer, xff);
        expect(clientAddress(raw, trusted), `peer ${peer}, X-Forwarded-For ${xff}`).toBe(req.ip);
        // The page at https://chat.example is same-origin exactly when Express reads that host.
        expect(originAllowed(raw, [], trusted), `peer ${peer}`).toBe(req.host === 'chat.example');
      }
    }
  });

  it.each([
    ['loopback', '127.0.0.1', '198.51.100.1, 10.9.9.9', '10.9.9.9'],
    ['false', '127.0.0.1', '198.51.100.1', '127.0.0.1'],
    ['10.0.0.0/8', '127.0.0.1', '198.51.100.1', '127.0.0.1'],
    ['2', '127.0.0.1', '198.51.100.1, 10.9.9.9', '198.51.100.1'],
    ['loopback, 10.0.0.0/8', '::ffff:127.0.0.1', '198.51.100.1, 10.9.9.9', '198.51.100.1'],
  ])('TRUST_PROXY=%s, peer %s, X-Forwarded-For %s: the client is %s', (value, peer, xff, client) => {
    const { raw } = requests(value, peer, xff);
    expect(clientAddress(raw, compileTrustProxy(trustProxy(value)))).toBe(client);
  });
});

/** A client that connects or fails; answers the socket or the connect_error. */
function tryConnect(url: string, token: string, more: Partial<ManagerOptions & SocketOptions> = {}): Promise<ClientSocket | Error> {
  const socket: ClientSocket = ioClient(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...more });
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err);
    });
  });
}

const headers = (h: Record<string, string>) => ({ extraHeaders: h });

describe.each(dbTargets())('sockets and TRUST_PROXY on %s', (target) => {
  /** Wrong-password sign-ins one after the other, each with that X-Forwarded-For: the HTTP statuses. */
  async function logins(s: TestServer, username: string, chains: string[]): Promise<number[]> {
    const statuses: number[] = [];
    for (const chain of chains) {
      const r = await fetch(`${s.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': chain },
        body: JSON.stringify({ username, password: 'a-wrong-guess' }),
      });
      statuses.push(r.status);
    }
    return statuses;
  }

  describe('TRUST_PROXY=false: a forged X-Forwarded-For from loopback changes nothing', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer({ target, config: { trustProxy: trustProxy('false'), maxSocketsPerAddress: 2, loginAddressRateLimit: 2 } });
    });
    afterAll(async () => s.close());

    it('every socket counts as the TCP peer whatever the header says, so the per-address cap still bites; HTTP agrees', async () => {
      const u = await s.register();
      const from = (chain: string) => tryConnect(s.url, u.token, headers({ 'x-forwarded-for': chain }));
      const first = [await from('203.0.113.1'), await from('198.51.100.2, 203.0.113.2')];
      expect(first.every((t) => !(t instanceof Error))).toBe(true);
      expect(((await from('192.0.2.3')) as Error).message).toBe('too_many_connections');
      expect(((await tryConnect(s.url, u.token)) as Error).message).toBe('too_many_connections');
      for (const t of first) (t as ClientSocket).close();
      expect(await logins(s, u.username, ['203.0.113.1', '203.0.113.2', '192.0.2.3'])).toEqual([401, 401, 429]);
    });
  });

  describe('TRUST_PROXY=1 (one proxy hop): the last X-Forwarded-For address is the client', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer({ target, config: { trustProxy: trustProxy('1'), maxSocketsPerAddress: 2, loginAddressRateLimit: 2 } });
    });
    afterAll(async () => s.close());

    it('counts sockets per forwarded client, as HTTP counts sign-ins', async () => {
      const u = await s.register();
      const from = (chain: string) => tryConnect(s.url, u.token, headers({ 'x-forwarded-for': chain }));
      // Only the hop the proxy appended counts: what the client put before it is not believed.
      const first = [await from('203.0.113.7'), await from('10.6.6.6, 203.0.113.7')];
      expect(first.every((t) => !(t instanceof Error))).toBe(true);
      expect(((await from('10.7.7.7, 203.0.113.7')) as Error).message).toBe('too_many_connections');
      const other = await from('203.0.113.7, 198.51.100.9');
      expect(other).not.toBeInstanceOf(Error);
      for (const t of [...first, other]) (t as ClientSocket).close();
      expect(await logins(s, u.username, ['203.0.113.7', '10.6.6.6, 203.0.113.7', '198.51.100.9', '203.0.113.7'])).toEqual([401, 401, 401, 429]);
    });
  });

  describe('TRUST_PROXY that does not trust loopback (10.0.0.0/8)', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer({ target, config: { trustProxy: trustProxy('10.0.0.0/8'), maxSocketsPerAddress: 2, loginAddressRateLimit: 2 } });
    });
    afterAll(async () => s.close());

    it('ignores X-Forwarded-For from this (loopback) peer: every socket counts as 127.0.0.1, as every HTTP request does', async () => {
      const u = await s.register();
      const from = (address: string) => tryConnect(s.url, u.token, headers({ 'x-forwarded-for': address }));
      const first = [await from('203.0.113.1'), await from('203.0.113.2')];
      expect(first.every((t) => !(t instanceof Error))).toBe(true);
      expect(((await from('203.0.113.3')) as Error).message).toBe('too_many_connections');
      for (const t of first) (t as ClientSocket).close();

      // HTTP counts the same single address: the sign-in budget per address (2 here) is spent
      // by two different X-Forwarded-For values.
      const login = (address: string) =>
        fetch(`${s.url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
          body: JSON.stringify({ username: u.username, password: 'a-wrong-guess' }),
        }).then((r) => r.status);
      expect([await login('203.0.113.1'), await login('203.0.113.2'), await login('203.0.113.3')]).toEqual([401, 401, 429]);
    });

    it('ignores X-Forwarded-Host for the Origin check', async () => {
      const u = await s.register();
      const forwarded = await tryConnect(s.url, u.token, headers({ origin: 'https://chat.example', 'x-forwarded-host': 'chat.example' }));
      expect(forwarded).toBeInstanceOf(Error);
      const own = await tryConnect(s.url, u.token, headers({ origin: s.url }));
      expect(own).not.toBeInstanceOf(Error);
      (own as ClientSocket).close();
    });
  });

  describe('TRUST_PROXY that trusts loopback and an inner proxy (loopback, 10.0.0.0/8)', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer({ target, config: { trustProxy: trustProxy('loopback, 10.0.0.0/8'), maxSocketsPerAddress: 2 } });
    });
    afterAll(async () => s.close());

    it('counts the client named in X-Forwarded-For past both proxies', async () => {
      const u = await s.register();
      const from = (chain: string) => tryConnect(s.url, u.token, headers({ 'x-forwarded-for': chain }));
      // One client through different inner proxies is one address…
      const first = [await from('203.0.113.7, 10.1.1.1'), await from('203.0.113.7, 10.2.2.2')];
      expect(first.every((t) => !(t instanceof Error))).toBe(true);
      expect(((await from('203.0.113.7, 10.3.3.3')) as Error).message).toBe('too_many_connections');
      // …and another client through the same proxy is another.
      const other = await from('198.51.100.9, 10.1.1.1');
      expect(other).not.toBeInstanceOf(Error);
      for (const t of [...first, other]) (t as ClientSocket).close();
    });

    it('takes the host from X-Forwarded-Host for the Origin check', async () => {
      const u = await s.register();
      const forwarded = await tryConnect(s.url, u.token, headers({ origin: 'https://chat.example', 'x-forwarded-host': 'chat.example' }));
      expect(forwarded).not.toBeInstanceOf(Error);
      (forwarded as ClientSocket).close();
      const foreign = await tryConnect(s.url, u.token, headers({ origin: 'https://evil.example', 'x-forwarded-host': 'chat.example' }));
      expect(foreign).toBeInstanceOf(Error);
    });
  });
});
