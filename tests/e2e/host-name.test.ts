// Issue 11, point 2: a newcomer opens the demo from a second device, by a host name or LAN
// address over plain HTTP. Chromium resolves chat.example.test to this machine (no DNS, no
// hosts file), so the page is served exactly as it would be at http://192.168.x.y:3000: it must
// render, sign in, and keep its live socket, and nothing may be upgraded to https://.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { apiLogin, launchBrowser, loginAs, startAppProcess, type RunningApp } from '../helpers/browser.ts';

const HOST = 'chat.example.test';
const SHOTS = 'test-results';

describe('the app opened by a host name other than localhost, over plain HTTP', () => {
  let app: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startAppProcess();
    browser = await launchBrowser([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('renders, signs in, shows the friends list with live updates, and requests nothing over https', async () => {
    const port = new URL(app.url).port;
    const url = `http://${HOST}:${port}`;
    const [alice, bob] = [await apiLogin(app.url, 'alice'), await apiLogin(app.url, 'bob')];

    const { context, page } = await loginAs(browser, url, 'alice').catch(async (err: unknown) => {
      throw new Error(`the login page did not render at ${url}: ${String(err)}`);
    });
    const requests: string[] = [];
    const sockets: string[] = [];
    const cspViolations: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('websocket', (ws) => sockets.push(ws.url()));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
    try {
      // A fresh load of the signed-in app, watched from the first request.
      await page.goto(`${url}/friends`);
      const bobItem = page.locator(`[data-testid="friend-item"][data-user-id="${bob.id}"]`);
      await expect.poll(() => bobItem.count()).toBe(1);
      await expect.poll(() => page.locator('[data-testid="friend-item"]').count()).toBe(4);

      // The socket works under connect-src 'self': bob's message shows up live as a badge.
      const badge = bobItem.getByTestId('friend-unread');
      await expect.poll(() => badge.textContent()).toBe('1'); // the seeded unread one
      const sent = await fetch(`${app.url}/api/messages/${alice.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.token}` },
        body: JSON.stringify({ content: 'Hello from another host name' }),
      });
      expect(sent.status).toBe(201);
      await expect.poll(() => badge.textContent()).toBe('2');

      await page.screenshot({ path: `${SHOTS}/host-name.png` });
      expect(requests.length).toBeGreaterThan(3);
      expect(requests.filter((r) => !r.startsWith(`${url}/`) && !r.startsWith('data:'))).toEqual([]);
      // The live socket is a plain ws:// to the same host and port (covered by connect-src 'self').
      expect(sockets.length).toBeGreaterThan(0);
      expect(sockets.filter((s) => !s.startsWith(`ws://${HOST}:${port}/socket.io/`))).toEqual([]);
      expect(cspViolations).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
