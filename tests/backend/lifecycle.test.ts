// `npm start` as a newcomer runs it: migrations, demo seed, serving, and a clean shutdown on
// SIGINT/SIGTERM that closes PGlite, so a restart finds the data and keeps people logged in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiLogin, startAppProcess } from '../helpers/browser.ts';

describe('the app process (npm start)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fc-life-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seeds the demo, shuts down cleanly on SIGINT, and keeps data and sessions across a restart', async () => {
    const env = { PGLITE_DIR: path.join(dir, 'pglite'), KEEP_DATA: '1' };
    const first = await startAppProcess(env);
    const { token } = await apiLogin(first.url, 'alice');
    const reg = await fetch(`${first.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'survivor', password: 'password123' }),
    });
    expect(reg.status).toBe(201);
    expect(first.output()).toMatch(/alice \/ bob \/ carol/);

    const exited = new Promise<number | null>((r) => first.child.once('exit', (code) => r(code)));
    first.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(first.output()).toContain('Stopped cleanly');

    const second = await startAppProcess(env);
    try {
      // The token from before the restart is still valid (the generated key was kept) …
      const me = await fetch(`${second.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { username: string } }).user.username).toBe('alice');
      // … the user registered before it is there, and the demo was not seeded twice.
      expect((await apiLogin(second.url, 'survivor')).token).toEqual(expect.any(String));
      expect(second.output()).not.toMatch(/seeded demo users/);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
