// Message lifecycle end to end in real Chromium (issue 14, "Done when"): a message goes sent →
// delivered → read; an edit and a reaction show live on the other side; a search finds a Chinese
// phrase and opens the conversation at it; a tab that was offline catches up on an edit and a
// recall when it reconnects.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, launchBrowser, loginAs, startAppProcess, type RunningApp } from '../helpers/browser.ts';

const SHOTS = 'docs/screenshots';

describe('message lifecycle in the browser', () => {
  let app: RunningApp;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startAppProcess();
    browser = await launchBrowser();
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      const { id, token } = await apiLogin(app.url, name);
      ids[name] = id;
      tokens[name] = token;
    }
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const windowFor = (page: Page, peer: string) => page.locator(`[data-testid="chat-window"][data-peer-id="${ids[peer]}"]`);
  const bubble = (page: Page, peer: string, text: string) => windowFor(page, peer).getByTestId('message-bubble').filter({ hasText: text });

  async function openChat(page: Page, peer: string) {
    await page.goto(app.url + '/friends');
    await page.locator(`[data-testid="friend-item"][data-user-id="${ids[peer]}"] [data-testid="friend-chat-button"]`).click();
    await expect.poll(() => windowFor(page, peer).count()).toBe(1);
  }

  async function send(page: Page, peer: string, text: string) {
    const input = windowFor(page, peer).getByTestId('chat-input');
    await input.fill(text);
    await input.press('Enter');
  }

  async function api(method: string, path: string, as: string, body?: unknown) {
    const res = await fetch(app.url + path, {
      method,
      headers: { authorization: `Bearer ${tokens[as]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  }

  it('sent → delivered → read; an edit and a reaction show live on the other side', async () => {
    const alice = await loginAs(browser, app.url, 'alice');
    const bob = await loginAs(browser, app.url, 'bob');
    try {
      // Bob is online (his friends page), his window with alice closed.
      await bob.page.goto(app.url + '/friends');
      await openChat(alice.page, 'bob');
      await send(alice.page, 'bob', 'Lunch at noon?');
      const mine = bubble(alice.page, 'bob', 'Lunch at noon?');
      // Bob's client received it and said so, before he opened anything.
      await expect.poll(() => mine.getAttribute('data-status'), { timeout: 15_000 }).toBe('delivered');

      await bob.page.locator(`[data-testid="friend-item"][data-user-id="${ids.alice}"] [data-testid="friend-chat-button"]`).click();
      await expect.poll(() => bubble(bob.page, 'alice', 'Lunch at noon?').count()).toBe(1);
      await expect.poll(() => mine.getAttribute('data-status')).toBe('read');

      // Alice edits it from the bubble's actions; bob sees the new text and "edited", live.
      await mine.hover();
      await mine.getByTestId('message-edit').click();
      const input = windowFor(alice.page, 'bob').getByTestId('chat-input');
      expect(await input.inputValue()).toBe('Lunch at noon?');
      await input.fill('Lunch at one?');
      await input.press('Enter');
      const edited = bubble(bob.page, 'alice', 'Lunch at one?');
      await expect.poll(() => edited.count()).toBe(1);
      await expect.poll(() => edited.getByTestId('message-edited').count()).toBe(1);
      expect(await bubble(bob.page, 'alice', 'Lunch at noon?').count()).toBe(0);

      // Bob reacts; alice sees the chip with its count, live.
      await edited.hover();
      await edited.getByTestId('message-react').click();
      const option = bob.page.getByTestId('emoji-option').first();
      const emoji = (await option.getAttribute('data-emoji')) ?? (await option.innerText()).trim();
      await option.click();
      const chip = windowFor(alice.page, 'bob').locator(`[data-testid="reaction-chip"][data-emoji="${emoji}"]`);
      await expect.poll(() => chip.count()).toBe(1);
      expect(await chip.innerText()).toContain('1');
      await alice.page.mouse.move(0, 0);
      await windowFor(alice.page, 'bob').screenshot({ path: `${SHOTS}/lifecycle.png` });
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });

  it('finds a Chinese phrase inside a sentence and opens the conversation at it', async () => {
    const phrase = '周末一起去吃火锅吧，顺便看电影';
    expect((await api('POST', `/api/messages/${ids.bob}`, 'carol', { content: phrase })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await api('POST', `/api/messages/${ids.bob}`, 'carol', { content: `filler ${i}` })).status).toBe(201);
    const bob = await loginAs(browser, app.url, 'bob');
    try {
      await bob.page.goto(app.url + '/friends');
      await bob.page.getByTestId('topbar-messages').click();
      const box = bob.page.getByTestId('search-input');
      await box.fill('火锅');
      await box.press('Enter');
      const result = bob.page.getByTestId('search-result');
      await expect.poll(() => result.count()).toBe(1);
      expect(await result.getByTestId('search-highlight').allInnerTexts()).toEqual(['火锅']);
      await result.click();
      const found = bubble(bob.page, 'carol', phrase);
      await expect.poll(() => found.count()).toBe(1);
      await expect.poll(() => found.evaluate((el) => !!el.closest('[data-highlighted]'))).toBe(true);
    } finally {
      await bob.context.close();
    }
  });

  it('a tab that was offline catches up on an edit and a recall when it reconnects', async () => {
    const alice = await loginAs(browser, app.url, 'alice');
    const dave = await loginAs(browser, app.url, 'dave');
    try {
      await openChat(alice.page, 'dave');
      await openChat(dave.page, 'alice');
      await send(alice.page, 'dave', 'Meet at the north gate');
      await send(alice.page, 'dave', 'Bring the blue map');
      await expect.poll(() => bubble(dave.page, 'alice', 'Bring the blue map').count()).toBe(1);
      // Dave may see a message before alice's tab has its answer (the push goes out first): her
      // bubble carries the stored id only once answered.
      const idOf = async (text: string) => {
        const b = bubble(alice.page, 'dave', text);
        await expect.poll(() => b.getAttribute('data-message-id')).toMatch(/^[0-9a-f-]{36}$/);
        return (await b.getAttribute('data-message-id'))!;
      };
      const gate = await idOf('Meet at the north gate');
      const map = await idOf('Bring the blue map');

      await dave.context.setOffline(true);
      await expect.poll(() => dave.page.getByTestId('connection-status').count()).toBe(1);
      expect((await api('PATCH', `/api/messages/${gate}`, 'alice', { content: 'Meet at the south gate' })).status).toBe(200);
      expect((await api('DELETE', `/api/messages/${map}`, 'alice')).status).toBe(204);
      // While away, dave's tab still shows the old state.
      expect(await bubble(dave.page, 'alice', 'Meet at the north gate').count()).toBe(1);

      await dave.context.setOffline(false);
      const moved = bubble(dave.page, 'alice', 'Meet at the south gate');
      await expect.poll(() => moved.count(), { timeout: 30_000 }).toBe(1);
      expect(await moved.getByTestId('message-edited').count()).toBe(1);
      await expect.poll(() => bubble(dave.page, 'alice', 'Bring the blue map').count()).toBe(0);
      expect(await bubble(dave.page, 'alice', 'Meet at the north gate').count()).toBe(0);
    } finally {
      await alice.context.close();
      await dave.context.close();
    }
  });
});
