// End to end in real Chromium against the app started as `npm start` starts it, on a fresh
// PGlite with the demo users: two people (two browser contexts) chat live, badges appear and
// clear, the dock keeps three windows, notifications arrive without reload, and a client that
// was offline catches up, and a tab closed as one too many (MAX_SOCKETS_PER_USER=2) says so and
// reconnects when asked. Screenshots of the main screens go to docs/screenshots/.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, launchBrowser, loginAs, startAppProcess, type RunningApp } from '../helpers/browser.ts';

const SHOTS = 'docs/screenshots';

describe('friend chat in the browser', () => {
  let app: RunningApp;
  let browser: Browser;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startAppProcess({ MAX_SOCKETS_PER_USER: '2' });
    browser = await launchBrowser();
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) ids[name] = (await apiLogin(app.url, name)).id;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const windowFor = (page: Page, peer: string) => page.locator(`[data-testid="chat-window"][data-peer-id="${ids[peer]}"]`);

  async function openChatFromFriends(page: Page, peer: string) {
    await page.goto(app.url + '/friends');
    await page.locator(`[data-testid="friend-item"][data-user-id="${ids[peer]}"] [data-testid="friend-chat-button"]`).click();
    await expect.poll(() => windowFor(page, peer).count()).toBe(1);
  }

  async function send(page: Page, peer: string, text: string) {
    const w = windowFor(page, peer);
    await w.getByTestId('chat-input').fill(text);
    await w.getByTestId('chat-input').press('Enter');
  }

  it('lets two friends chat live both ways, with unread badges that clear when read', async () => {
    const alice = await loginAs(browser, app.url, 'alice');
    const bob = await loginAs(browser, app.url, 'bob');
    try {
      await bob.page.goto(app.url + '/friends');
      // Bob has seeded unread messages from nobody; alice's one unread from bob is on her side.
      await openChatFromFriends(alice.page, 'bob');
      await send(alice.page, 'bob', 'Hello Bob, this is live!');

      const aliceBubble = windowFor(alice.page, 'bob').getByTestId('message-bubble').filter({ hasText: 'Hello Bob, this is live!' });
      // Bob's client is online: it may acknowledge the message as delivered at once.
      await expect.poll(() => aliceBubble.getAttribute('data-status')).toMatch(/^(sent|delivered)$/);

      // Bob sees the badge on his friends list and in the top bar, without reloading.
      const bobFriendBadge = bob.page.locator(`[data-testid="friend-item"][data-user-id="${ids.alice}"] [data-testid="friend-unread"]`);
      await expect.poll(() => bobFriendBadge.textContent()).toBe('1');
      await expect.poll(() => bob.page.getByTestId('unread-total').textContent()).toBe('1');

      // Bob opens the conversation: the message is there, the badges clear, alice sees "read".
      await bob.page.locator(`[data-testid="friend-item"][data-user-id="${ids.alice}"] [data-testid="friend-chat-button"]`).click();
      await expect.poll(() => windowFor(bob.page, 'alice').getByTestId('message-bubble').filter({ hasText: 'Hello Bob, this is live!' }).count()).toBe(1);
      await expect.poll(() => bob.page.getByTestId('unread-total').count()).toBe(0);
      await expect.poll(() => bobFriendBadge.count()).toBe(0);
      await expect.poll(() => aliceBubble.getAttribute('data-status')).toBe('read');

      // And back the other way.
      await send(bob.page, 'alice', 'Got it, Alice 👋');
      await expect
        .poll(() => windowFor(alice.page, 'bob').getByTestId('message-bubble').filter({ hasText: 'Got it, Alice 👋' }).count())
        .toBe(1);
      await alice.page.screenshot({ path: `${SHOTS}/chat.png` });
      await bob.page.screenshot({ path: `${SHOTS}/friends.png` });
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it('renders message text as text, never as HTML', async () => {
    const carol = await loginAs(browser, app.url, 'carol');
    try {
      await openChatFromFriends(carol.page, 'alice');
      const evil = '<img src=x onerror="window.__pwned=1"><b>bold?</b>';
      await send(carol.page, 'alice', evil);
      const bubble = windowFor(carol.page, 'alice').getByTestId('message-bubble').filter({ hasText: 'bold?' });
      await expect.poll(() => bubble.count()).toBe(1);
      expect(await bubble.innerText()).toContain('<b>bold?</b>');
      expect(await bubble.locator('img, b').count()).toBe(0);
      expect(await carol.page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    } finally {
      await carol.context.close();
    }
  });

  it('keeps at most three chat windows: a fourth closes the least recently used', async () => {
    // A tall screen, so the docked windows do not cover the friends list's chat buttons.
    const alice = await loginAs(browser, app.url, 'alice', { width: 1600, height: 1100 });
    try {
      for (const peer of ['bob', 'carol', 'dave']) await openChatFromFriends(alice.page, peer);
      // Use bob's window again, so carol's becomes the least recently used.
      await windowFor(alice.page, 'bob').getByTestId('chat-input').click();
      await openChatFromFriends(alice.page, 'erin');
      await expect.poll(() => alice.page.getByTestId('chat-window').count()).toBe(3);
      expect(await windowFor(alice.page, 'carol').count()).toBe(0);
      for (const peer of ['bob', 'dave', 'erin']) expect(await windowFor(alice.page, peer).count()).toBe(1);

      // Minimize one; it survives a reload with its state.
      await windowFor(alice.page, 'dave').getByTestId('chat-window-minimize').click();
      await alice.page.reload();
      await expect.poll(() => alice.page.getByTestId('chat-window').count()).toBe(3);
      await expect.poll(() => windowFor(alice.page, 'dave').getAttribute('data-minimized')).toBe('true');
      await alice.page.screenshot({ path: `${SHOTS}/three-windows.png` });

      await windowFor(alice.page, 'erin').getByTestId('chat-window-close').click();
      await expect.poll(() => alice.page.getByTestId('chat-window').count()).toBe(2);
    } finally {
      await alice.context.close();
    }
  });

  it('on a phone-sized screen shows one full-width window, the others as avatars to switch to', async () => {
    // Narrow (under 640 px) and tall enough that the window leaves the friends list's buttons free.
    const alice = await loginAs(browser, app.url, 'alice', { width: 390, height: 1000 });
    try {
      await openChatFromFriends(alice.page, 'bob');
      await openChatFromFriends(alice.page, 'carol');
      await expect.poll(() => alice.page.getByTestId('chat-window').count()).toBe(1);
      expect(await windowFor(alice.page, 'carol').count()).toBe(1);
      const box = await windowFor(alice.page, 'carol').boundingBox();
      expect(box!.width).toBeGreaterThanOrEqual(380);

      // Bob's conversation waits as an avatar; a tap brings it to the front.
      const bobAvatar = alice.page.locator('[data-testid="chat-dock"] button[aria-label="Bob Li"]');
      await expect.poll(() => bobAvatar.count()).toBe(1);
      await alice.page.screenshot({ path: `${SHOTS}/phone.png` });
      await bobAvatar.click();
      await expect.poll(() => windowFor(alice.page, 'bob').count()).toBe(1);
      expect(await alice.page.getByTestId('chat-window').count()).toBe(1);
      await send(alice.page, 'bob', 'Sent from my phone');
      await expect
        .poll(() => windowFor(alice.page, 'bob').getByTestId('message-bubble').filter({ hasText: 'Sent from my phone' }).getAttribute('data-status'))
        .toBe('sent');
    } finally {
      await alice.context.close();
    }
  });

  it('shows follow and purchase notifications in the bell without a reload', async () => {
    const bob = await loginAs(browser, app.url, 'bob');
    try {
      const bobApi = await apiLogin(app.url, 'bob');
      const counts = await (await fetch(`${app.url}/api/messages/unread/count`, { headers: { authorization: `Bearer ${bobApi.token}` } })).json();
      const before = (counts as { system: number }).system;
      await bob.page.goto(app.url + '/');
      if (before > 0) await expect.poll(() => bob.page.getByTestId('notification-badge').getAttribute('data-count')).toBe(String(before));

      // erin follows bob and buys his work, through the API as another person would.
      const erin = await apiLogin(app.url, 'erin');
      const auth = { authorization: `Bearer ${erin.token}` };
      expect((await fetch(`${app.url}/api/follows/${ids.bob}`, { method: 'POST', headers: auth })).status).toBe(201);
      await expect.poll(() => bob.page.getByTestId('notification-badge').getAttribute('data-count')).toBe(String(before + 1));

      const works = (await (await fetch(`${app.url}/api/works`, { headers: auth })).json()) as { works: { id: string; owner: { id: string } }[] };
      const bobsWork = works.works.find((w) => w.owner.id === ids.bob)!;
      expect((await fetch(`${app.url}/api/works/${bobsWork.id}/purchase`, { method: 'POST', headers: auth })).status).toBe(201);
      // The sale notifies bob and unlocks his first-sale achievement: two more.
      await expect.poll(() => bob.page.getByTestId('notification-badge').getAttribute('data-count')).toBe(String(before + 3));

      await bob.page.goto(app.url + '/notifications');
      await expect.poll(() => bob.page.getByTestId('notification-item').count()).toBeGreaterThanOrEqual(3);
      const text = await bob.page.locator('[data-testid="notification-item"]').allInnerTexts();
      expect(text.join('\n')).toMatch(/Erin Liu/);
      expect(text.join('\n')).toMatch(/Ink landscape, no\. 3/);
      // With unread notifications, "mark all as read" is on offer.
      await expect.poll(() => bob.page.getByTestId('notifications-mark-all').isEnabled()).toBe(true);
      await bob.page.waitForTimeout(500); // the button's colour transition, for the screenshot
      await bob.page.screenshot({ path: `${SHOTS}/notifications.png` });

      await bob.page.getByTestId('notifications-mark-all').click();
      await expect.poll(() => bob.page.getByTestId('notification-badge').count()).toBe(0);
    } finally {
      await bob.context.close();
    }
  });

  it('catches up after being offline: missed messages appear once, typed text is sent', async () => {
    const alice = await loginAs(browser, app.url, 'alice');
    const dave = await loginAs(browser, app.url, 'dave');
    try {
      await openChatFromFriends(alice.page, 'dave');
      await openChatFromFriends(dave.page, 'alice');
      await alice.context.setOffline(true);
      await expect.poll(() => alice.page.getByTestId('connection-status').count()).toBe(1);

      await send(dave.page, 'alice', 'Missed message one');
      await send(dave.page, 'alice', 'Missed message two');
      for (const t of ['Missed message one', 'Missed message two']) {
        const b = windowFor(dave.page, 'alice').getByTestId('message-bubble').filter({ hasText: t });
        await expect.poll(() => b.getAttribute('data-status')).toBe('sent');
      }
      await send(alice.page, 'dave', 'Typed while offline');
      const pending = windowFor(alice.page, 'dave').getByTestId('message-bubble').filter({ hasText: 'Typed while offline' });
      expect(await pending.getAttribute('data-status')).toBe('sending');

      await alice.context.setOffline(false);
      for (const t of ['Missed message one', 'Missed message two']) {
        await expect.poll(() => windowFor(alice.page, 'dave').getByTestId('message-bubble').filter({ hasText: t }).count(), { timeout: 30_000 }).toBe(1);
      }
      await expect.poll(() => pending.getAttribute('data-status'), { timeout: 30_000 }).not.toBe('sending');
      expect(['sent', 'read']).toContain(await pending.getAttribute('data-status'));
      await expect
        .poll(() => windowFor(dave.page, 'alice').getByTestId('message-bubble').filter({ hasText: 'Typed while offline' }).count())
        .toBe(1);
      // Nothing doubled after the resync.
      expect(await windowFor(alice.page, 'dave').getByTestId('message-bubble').filter({ hasText: 'Missed message' }).count()).toBe(2);
    } finally {
      await alice.context.close();
      await dave.context.close();
    }
  });

  it('a tab closed as one too many says so in its window, keeps the typed text unsent, and takes the connection back on Reconnect', async () => {
    const carol = await loginAs(browser, app.url, 'carol');
    try {
      await openChatFromFriends(carol.page, 'bob');
      const w = windowFor(carol.page, 'bob');
      await w.getByTestId('chat-input').fill('Typed in the first tab');
      // Two more tabs of the same signed-in browser: the server keeps two sockets per user and
      // closes the oldest, this first tab.
      const second = await carol.context.newPage();
      await second.goto(app.url + '/friends');
      await expect.poll(() => second.locator('[data-testid="friend-item"]').count()).toBeGreaterThan(0);
      const third = await carol.context.newPage();
      await third.goto(app.url + '/friends');
      const notice = w.getByTestId('chat-closed-notice');
      await expect.poll(() => notice.count(), { timeout: 15_000 }).toBe(1);
      expect(await notice.getAttribute('data-reason')).toBe('too_many_sockets');
      expect(await carol.page.getByTestId('connection-status').getAttribute('data-reason')).toBe('too_many_sockets');
      expect(await w.getByTestId('chat-input').inputValue()).toBe('Typed in the first tab');
      expect(await w.getByTestId('chat-send').isDisabled()).toBe(true);
      await w.getByTestId('chat-input').press('Enter');
      expect(await w.getByTestId('message-bubble').filter({ hasText: 'Typed in the first tab' }).count()).toBe(0);
      // A background tab does not run transitions: in front, let them finish before the picture.
      await carol.page.bringToFront();
      const status = carol.page.getByTestId('connection-status');
      await expect.poll(() => status.evaluate((e) => e.ownerDocument.defaultView!.getComputedStyle(e).opacity)).toBe('1');
      await carol.page.waitForTimeout(500);
      await carol.page.screenshot({ path: `${SHOTS}/closed-tab.png` });

      // Reconnect here: this tab is back (and the oldest other one, the second, makes way).
      await notice.getByTestId('chat-closed-reconnect').click();
      await expect.poll(() => notice.count(), { timeout: 15_000 }).toBe(0);
      await expect.poll(() => second.getByTestId('connection-status').getAttribute('data-reason'), { timeout: 15_000 }).toBe('too_many_sockets');
      await w.getByTestId('chat-input').press('Enter');
      const bubble = w.getByTestId('message-bubble').filter({ hasText: 'Typed in the first tab' });
      await expect.poll(() => bubble.getAttribute('data-status'), { timeout: 15_000 }).toBe('sent');
    } finally {
      await carol.context.close();
    }
  });

  it('shows the login page and the home page', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(app.url + '/');
    await page.waitForURL((u) => u.pathname.startsWith('/login'));
    await page.screenshot({ path: `${SHOTS}/login.png` });
    await context.close();
    const carol = await loginAs(browser, app.url, 'carol');
    await carol.page.goto(app.url + '/');
    await expect.poll(() => carol.page.getByTestId('work-item').count()).toBeGreaterThan(0);
    await carol.page.screenshot({ path: `${SHOTS}/home.png` });
    await carol.context.close();
  });
});
