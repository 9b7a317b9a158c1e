// A long conversation in real Chromium: reading it from the newest message back to the first
// and down again keeps the DOM to a bounded window of bubbles, every message is rendered on the
// way, the message in view does not jump when the window grows, and a message that arrives
// while the reader is far up is announced and reachable with one click.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, launchBrowser, loginAs, startAppProcess, type RunningApp } from '../helpers/browser.ts';

const MESSAGES = 600;
/** useMessageWindow's MAX_RENDERED. */
const MAX_BUBBLES = 200;
const LIST = '[data-testid="chat-window"] [data-testid="message-list"]';

interface Walk {
  seen: number;
  maxBubbles: number;
  /** The largest move of the message in view across a change of the window, in px. */
  maxJump: number;
  reached: boolean;
}

/**
 * In the page: moves the list one way a screen at a time (as a reader would), and after each
 * frame notes which bubbles are rendered and how far the bubble that was in view moved.
 */
const WALK = `async ({ list, direction, newestId }) => {
  const el = document.querySelector(list);
  const bubbles = el.getElementsByClassName('bubble');
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const seen = new Set();
  let maxBubbles = 0, maxJump = 0;
  const done = () => direction === 'up'
    ? el.scrollTop === 0 && el.querySelector('[data-testid="history-start"]') !== null
    : el.scrollHeight - el.scrollTop - el.clientHeight < 2 && bubbles[bubbles.length - 1]?.dataset.messageId === newestId;
  const inView = () => {
    const top = el.getBoundingClientRect().top;
    for (const b of bubbles) {
      const r = b.getBoundingClientRect();
      if (r.top >= top) return { id: b.dataset.messageId, top: r.top };
    }
    return null;
  };
  const t0 = performance.now();
  while (!done() && performance.now() - t0 < 60000) {
    const target = direction === 'up' ? Math.max(0, el.scrollTop - el.clientHeight) : el.scrollTop + el.clientHeight;
    el.scrollTop = target === el.scrollTop ? target + (direction === 'up' ? 1 : -1) : target;
    const anchor = inView();
    const count = bubbles.length;
    const first = bubbles[0]?.dataset.messageId;
    for (let i = 0; i < 3; i++) await frame();
    maxBubbles = Math.max(maxBubbles, bubbles.length);
    for (const b of bubbles) seen.add(b.dataset.messageId);
    // The window changed under a still reader: the bubble in view must stay where it was.
    if (anchor && (bubbles.length !== count || bubbles[0]?.dataset.messageId !== first)) {
      const same = [...bubbles].find((b) => b.dataset.messageId === anchor.id);
      if (same) maxJump = Math.max(maxJump, Math.abs(same.getBoundingClientRect().top - anchor.top));
    }
  }
  return { seen: seen.size, maxBubbles, maxJump, reached: done() };
}`;

describe('a long conversation in the browser', () => {
  let app: RunningApp;
  let browser: Browser;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let newestId = '';

  async function post(from: { token: string }, to: { id: string }, content: string, clientId: string): Promise<string> {
    const res = await fetch(`${app.url}/api/messages/${to.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${from.token}` },
      body: JSON.stringify({ content, clientId }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { message: { id: string } }).message.id;
  }

  beforeAll(async () => {
    app = await startAppProcess({ CHAT_RATE_LIMIT: '100000' });
    browser = await launchBrowser();
    alice = await apiLogin(app.url, 'alice');
    bob = await apiLogin(app.url, 'bob');
    // In order, so the newest is known; lengths vary so bubbles differ in height.
    for (let i = 0; i < MESSAGES; i++) {
      const [from, to] = i % 2 === 0 ? [bob, alice] : [alice, bob];
      newestId = await post(from, to, `#${i} ${'word '.repeat(1 + ((i * 7) % 23))}`, `long-${i}`);
    }
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const walk = (page: Page, direction: 'up' | 'down') => page.evaluate(`(${WALK})(${JSON.stringify({ list: LIST, direction, newestId })})`) as Promise<Walk>;

  /** Alice's window on the conversation with bob, showing its newest message. */
  async function openThread() {
    const { context, page } = await loginAs(browser, app.url, 'alice');
    await page.goto(app.url + '/friends');
    await page.locator(`[data-testid="friend-item"][data-user-id="${bob.id}"] [data-testid="friend-chat-button"]`).click();
    const list = page.locator(LIST);
    await expect.poll(() => list.locator(`[data-message-id="${newestId}"]`).count()).toBe(1);
    return { context, page, list };
  }

  it('reads from the newest message to the first and back with a bounded DOM, keeping the reader’s place', async () => {
    const { context, page, list } = await openThread();
    try {

      const up = await walk(page, 'up');
      expect(up.reached).toBe(true);
      // The seeded conversation has a few more messages than this test's.
      expect(up.seen).toBeGreaterThanOrEqual(MESSAGES);
      expect(up.maxBubbles).toBeLessThanOrEqual(MAX_BUBBLES);
      expect(up.maxJump).toBeLessThanOrEqual(2);
      await expect.poll(() => list.getByTestId('message-bubble').filter({ hasText: /^#0 / }).count()).toBe(1);

      const down = await walk(page, 'down');
      expect(down.reached).toBe(true);
      expect(down.maxBubbles).toBeLessThanOrEqual(MAX_BUBBLES);
      expect(down.maxJump).toBeLessThanOrEqual(2);
      expect(down.seen).toBeGreaterThan(MAX_BUBBLES);
    } finally {
      await context.close();
    }
  });

  it('announces a message that arrives while the reader is far up, and jumps to it on click', async () => {
    const { context, page, list } = await openThread();
    try {
      expect((await walk(page, 'up')).reached).toBe(true);
      // Far up, the newest messages are no longer rendered.
      expect(await list.locator(`[data-message-id="${newestId}"]`).count()).toBe(0);

      const id = await post(bob, alice, 'Are you still there?', 'long-late');
      const jump = page.locator('[data-testid="chat-window"] .cw-new');
      await expect.poll(() => jump.textContent()).toContain('(1)');
      // Reading far up is left alone.
      expect(await list.getByTestId('history-start').count()).toBe(1);

      await jump.click();
      const late = list.locator(`[data-message-id="${id}"]`);
      await expect.poll(() => late.isVisible()).toBe(true);
      await expect.poll(() => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(2);
      expect(await list.getByTestId('message-bubble').count()).toBeLessThanOrEqual(MAX_BUBBLES);
      await expect.poll(() => jump.count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
