// Group chat end to end in Chromium, against the app as `npm start` runs it: three friends,
// one creates a group from the friends page, all three chat in it live, unread badges count it,
// one leaves (the others see the notice, the leaver gets nothing more). Screenshots of a group
// window go to docs/screenshots/.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { apiLogin, launchBrowser, loginAs, startAppProcess, type RunningApp } from '../helpers/browser.ts';

const SHOTS = 'docs/screenshots';

describe('group chat in the browser', () => {
  let app: RunningApp;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startAppProcess();
    browser = await launchBrowser();
    for (const name of ['alice', 'bob', 'carol']) ids[name] = (await apiLogin(app.url, name)).id;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await app?.stop();
  });

  async function signIn(name: string): Promise<Page> {
    const { context, page } = await loginAs(browser, app.url, name, { width: 1280, height: 900 });
    contexts.push(context);
    await page.goto(app.url + '/friends');
    return page;
  }

  const groupWindow = (page: Page, groupId: string) => page.locator(`[data-testid="chat-window"][data-group-id="${groupId}"]`);
  const bubbles = (page: Page, groupId: string) => groupWindow(page, groupId).locator('[data-testid="message-bubble"] .bubble-text');
  // The badge is not rendered at 0 (and an absent element would make getAttribute wait).
  const unreadTotal = async (page: Page) => {
    const badge = page.getByTestId('unread-total');
    return (await badge.count()) ? Number(await badge.getAttribute('data-count')) : 0;
  };
  const lastEvent = async (page: Page, groupId: string) => {
    const events = groupWindow(page, groupId).getByTestId('group-event');
    return (await events.count()) ? events.last().innerText() : null;
  };

  async function send(page: Page, groupId: string, text: string): Promise<void> {
    const input = groupWindow(page, groupId).getByTestId('chat-input');
    await input.fill(text);
    await input.press('Enter');
    const sent = groupWindow(page, groupId).getByTestId('message-bubble').filter({ hasText: text });
    await expect.poll(() => sent.getAttribute('data-status')).toBe('sent');
  }

  it('three friends: one makes a group, all chat live, badges count it, one leaves', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const carol = await signIn('carol');
    const carolTotalBefore = await unreadTotal(carol);

    // Alice makes the group from her friends page.
    await alice.getByTestId('group-create').first().click();
    await alice.locator(`[data-testid="group-member-option"][data-user-id="${ids.bob}"]`).click();
    await alice.locator(`[data-testid="group-member-option"][data-user-id="${ids.carol}"]`).click();
    await alice.getByTestId('group-name-input').fill('Weekend hikers');
    await alice.waitForTimeout(300); // the dialog's opening transition, for the screenshot
    await alice.screenshot({ path: `${SHOTS}/group-create.png` });
    await alice.getByTestId('group-create-submit').click();
    const aliceWindow = alice.locator('[data-testid="chat-window"][data-group-id]');
    await expect.poll(() => aliceWindow.count()).toBe(1);
    const groupId = (await aliceWindow.getAttribute('data-group-id'))!;
    expect(await groupWindow(alice, groupId).getByTestId('group-event').first().innerText()).toBe('You created the group “Weekend hikers”');

    // Bob and Carol see it in their lists without a reload; Bob opens it.
    for (const page of [bob, carol]) {
      await expect.poll(() => page.locator(`[data-testid="group-item"][data-group-id="${groupId}"]`).count()).toBe(1);
    }
    await bob.locator(`[data-testid="group-item"][data-group-id="${groupId}"]`).click();
    await expect.poll(() => lastEvent(bob, groupId)).toBe('Alice Chen created the group “Weekend hikers”');

    // Live both ways, with who said what.
    await send(alice, groupId, 'Who is in for Saturday?');
    await expect.poll(() => bubbles(bob, groupId).allInnerTexts()).toEqual(['Who is in for Saturday?']);
    await send(bob, groupId, 'Me! Trail or lake?');
    await expect.poll(() => bubbles(alice, groupId).allInnerTexts()).toEqual(['Who is in for Saturday?', 'Me! Trail or lake?']);
    expect(await groupWindow(alice, groupId).getByTestId('message-sender').allInnerTexts()).toEqual(['Bob Li']);

    // Carol has not opened it: the group's badge and the top bar count its messages.
    const carolBadge = carol.locator(`[data-group-id="${groupId}"] [data-testid="group-unread"]`);
    await expect.poll(async () => ((await carolBadge.count()) ? carolBadge.getAttribute('data-count') : null)).toBe('2');
    await expect.poll(() => unreadTotal(carol)).toBe(carolTotalBefore + 2);
    await carol.locator(`[data-testid="group-item"][data-group-id="${groupId}"]`).click();
    await expect.poll(() => bubbles(carol, groupId).allInnerTexts()).toEqual(['Who is in for Saturday?', 'Me! Trail or lake?']);
    await expect.poll(() => carolBadge.count()).toBe(0);
    await expect.poll(() => unreadTotal(carol)).toBe(carolTotalBefore);
    await send(carol, groupId, 'Lake, please');
    for (const page of [alice, bob]) {
      await expect.poll(() => bubbles(page, groupId).allInnerTexts()).toEqual(['Who is in for Saturday?', 'Me! Trail or lake?', 'Lake, please']);
    }
    await alice.waitForTimeout(300); // let the last bubble's entrance settle for the screenshot
    await groupWindow(alice, groupId).screenshot({ path: `${SHOTS}/group-window.png` });

    // Carol leaves: the others see the notice, her window says she is out and takes no input.
    await groupWindow(carol, groupId).getByTestId('group-menu').click();
    await carol.getByTestId('group-menu-leave').click();
    await groupWindow(carol, groupId).getByTestId('group-leave-submit').click();
    await expect.poll(() => groupWindow(carol, groupId).getByTestId('group-not-member').count()).toBe(1);
    expect(await groupWindow(carol, groupId).getByTestId('chat-input').isDisabled()).toBe(true);
    for (const page of [alice, bob]) {
      await expect.poll(() => lastEvent(page, groupId)).toBe('Carol Wang left the group');
    }

    // After she left: Alice and Bob go on; nothing reaches Carol.
    await send(alice, groupId, 'Carol is out, so it is the trail');
    await send(bob, groupId, 'Trail it is');
    await expect.poll(() => bubbles(alice, groupId).allInnerTexts()).toContain('Trail it is');
    await expect.poll(() => bubbles(bob, groupId).allInnerTexts()).toContain('Carol is out, so it is the trail');
    expect(await bubbles(carol, groupId).allInnerTexts()).toEqual(['Who is in for Saturday?', 'Me! Trail or lake?', 'Lake, please']);
    expect(await carol.locator(`[data-testid="group-item"][data-group-id="${groupId}"]`).count()).toBe(0);
    expect(await unreadTotal(carol)).toBe(carolTotalBefore);

    // The member list, as the owner sees it.
    await groupWindow(alice, groupId).getByTestId('group-menu').click();
    await alice.getByTestId('group-menu-members').click();
    await expect.poll(() => groupWindow(alice, groupId).getByTestId('group-member').count()).toBe(2);
    await alice.waitForTimeout(300);
    await groupWindow(alice, groupId).screenshot({ path: `${SHOTS}/group-members.png` });

    // The group is among Bob's recent conversations, its latest message first; a click opens it.
    await groupWindow(bob, groupId).getByTestId('chat-window-close').click();
    await bob.getByTestId('topbar-messages').click();
    const entry = bob.locator(`[data-testid="conversation-item"][data-group-id="${groupId}"]`);
    await expect.poll(() => entry.innerText()).toContain('You: Trail it is');
    await entry.click();
    await expect.poll(() => groupWindow(bob, groupId).count()).toBe(1);
  });
});
