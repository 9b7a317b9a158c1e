// Issue 11, point 2: the page must load over plain HTTP at any host name (a LAN address, a
// second device). So by default no `upgrade-insecure-requests` and no HSTS; a deployment served
// over HTTPS turns both on with HTTPS=true. The page may fetch and open sockets only to its own
// origin, and show images from its own origin, data: and blob: URLs, plus configured origins.
// (Headers do not touch the database: PGlite only.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../backend/src/config.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

// One database for every server here: only the configuration differs between them. A PGlite
// directory that the servers open one after the other, created and migrated before the tests.
const dir = mkdtempSync(path.join(tmpdir(), 'fc-headers-'));
const database: TestDatabase = { url: undefined, pgliteDir: path.join(dir, 'pglite'), drop: async () => {} };
beforeAll(async () => {
  await (await startServer({ database })).close();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function headersWith(config: Partial<Config> = {}): Promise<{ csp: Map<string, string[]>; hsts: string | null }> {
  const s = await startServer({ config, database });
  servers.push(s);
  const res = await fetch(`${s.url}/api/health`);
  expect(res.status).toBe(200);
  const raw = res.headers.get('content-security-policy') ?? '';
  const csp = new Map(
    raw
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
  return { csp, hsts: res.headers.get('strict-transport-security') };
}

describe('security headers', () => {
  it('by default: no upgrade-insecure-requests, no HSTS, connections and images from the own origin only', async () => {
    const { csp, hsts } = await headersWith();
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.has('upgrade-insecure-requests')).toBe(false);
    expect(hsts).toBeNull();
    // 'self' covers same-origin ws:/wss: in CSP Level 3 (the e2e host-name test shows the socket connecting).
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:', 'blob:']);
  });

  it('with HTTPS=true: HSTS and upgrade-insecure-requests', async () => {
    expect(loadConfig({ HTTPS: 'true' }).https).toBe(true);
    const { csp, hsts } = await headersWith({ https: true });
    expect(csp.has('upgrade-insecure-requests')).toBe(true);
    expect(hsts).toMatch(/^max-age=\d{7,}/);
  });

  it('adds the configured origins to connect-src and img-src', async () => {
    const config = loadConfig({
      CSP_CONNECT_SRC: 'https://api.example.com, wss://rt.example.com',
      CSP_IMG_SRC: 'https://avatars.example.com https://*.cdn.example.net',
    });
    const { csp } = await headersWith({ cspConnectSrc: config.cspConnectSrc, cspImgSrc: config.cspImgSrc });
    expect(csp.get('connect-src')).toEqual(["'self'", 'https://api.example.com', 'wss://rt.example.com']);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:', 'blob:', 'https://avatars.example.com', 'https://*.cdn.example.net']);
  });

  it.each([
    ['a directive smuggled in', 'https://a.example.com; script-src *'],
    ['a keyword', "'unsafe-inline'"],
    ['a wildcard for everything', '*'],
    ['a quote', 'https://a.example.com"'],
  ])('refuses a configured source with %s at start-up', (_what, value) => {
    expect(() => loadConfig({ CSP_IMG_SRC: value })).toThrow(/CSP_IMG_SRC/);
    expect(() => loadConfig({ CSP_CONNECT_SRC: value })).toThrow(/CSP_CONNECT_SRC/);
  });
});
