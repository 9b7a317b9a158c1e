// A TCP proxy a test can cut and restore, to take PostgreSQL or Redis away from one node
// without touching the real server (which other tests share).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on; the same after every restart. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string;
  /**
   * From now until stop(), what the clients send is read but not forwarded (the connections stay
   * up, the peer's answers still come): commands hang unanswered. `held` is what was kept back.
   */
  hold(): void;
  /** Ends hold(): what was kept back goes on to the peer, in order, and so does what follows. */
  release(): void;
  /** What the clients sent since hold(), as latin1 text. */
  readonly held: string;
  /** Stops accepting and destroys every open connection, both sides: the peer is gone. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  /** Each open connection: the client's socket and its upstream. */
  const pairs = new Set<[Socket, Socket]>();
  let server: Server | null = null;
  let port = 0;
  let held: Buffer[] | null = null;
  /** Each held connection: its upstream, and what it kept back (for release()). */
  const keptBack = new Map<Socket, { upstream: Socket; chunks: Buffer[]; onData: (chunk: Buffer) => void }>();
  const hold = (client: Socket, upstream: Socket) => {
    client.unpipe(upstream);
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => {
      held?.push(chunk);
      chunks.push(chunk);
    };
    client.on('data', onData);
    client.resume(); // unpipe paused it
    keptBack.set(client, { upstream, chunks, onData });
  };

  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };

  function listen(): Promise<void> {
    const srv = createServer((client) => {
      track(client);
      const upstream = connect(targetPort, targetHost);
      track(upstream);
      client.pipe(upstream).pipe(client);
      const pair: [Socket, Socket] = [client, upstream];
      pairs.add(pair);
      if (held) hold(client, upstream);
      client.on('close', () => {
        pairs.delete(pair);
        keptBack.delete(client);
        upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
    });
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        port = (srv.address() as { port: number }).port;
        server = srv;
        resolve();
      });
    });
  }

  async function stop(): Promise<void> {
    const srv = server;
    server = null;
    held = null;
    keptBack.clear();
    for (const s of sockets) s.destroy();
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  }

  await listen();
  return {
    get port() {
      return port;
    },
    rewrite(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    hold() {
      held ??= [];
      for (const [client, upstream] of pairs) hold(client, upstream);
    },
    release() {
      held = null;
      for (const [client, { upstream, chunks, onData }] of keptBack) {
        client.off('data', onData);
        for (const chunk of chunks) upstream.write(chunk);
        client.pipe(upstream);
      }
      keptBack.clear();
    },
    get held() {
      return Buffer.concat(held ?? []).toString('latin1');
    },
    stop,
    start: listen,
    close: stop,
  };
}

/** Host and port of a URL (postgresql://, redis://), with the protocol's default port. */
export function hostAndPort(url: string, defaultPort: number): [string, number] {
  const u = new URL(url);
  return [u.hostname || '127.0.0.1', u.port ? Number(u.port) : defaultPort];
}
