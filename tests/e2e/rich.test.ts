// Rich messages end to end in real Chromium against the app as `npm start` runs it: alice pastes
// an image and attaches a file, records a voice message with Chromium's fake microphone and
// shares a (fake) location; carol sees the thumbnail, downloads the file byte for byte, plays the
// recording and gets the map card. A failed upload survives a reload and is sent on retry. A file
// dropped on a group window reaches the group.
// Screenshots go to docs/screenshots/rich-*.png: the chat window alone (the demo's top bar has a
// CJK label this machine has no font for), and the image viewer over the page.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, FAKE_MEDIA_FLAGS, launchBrowser, loginAs, startAppProcess, type RunningApp } from '../helpers/browser.ts';

const SHOTS = 'docs/screenshots';
const EIFFEL = { latitude: 48.8584, longitude: 2.2945 };

// Runs in the page (a string: the test's TypeScript has no DOM types): draws a landscape on a
// 480 × 300 canvas and pastes it as screenshot.png into `el`.
const PASTE_PNG = `async (el) => {
  const canvas = Object.assign(document.createElement('canvas'), { width: 480, height: 300 });
  const g = canvas.getContext('2d');
  const sky = g.createLinearGradient(0, 0, 0, 300);
  sky.addColorStop(0, '#74c0fc');
  sky.addColorStop(1, '#d0ebff');
  g.fillStyle = sky;
  g.fillRect(0, 0, 480, 300);
  g.fillStyle = '#fab005';
  g.beginPath();
  g.arc(380, 80, 40, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = '#2f9e44';
  g.beginPath();
  g.moveTo(0, 300);
  g.lineTo(140, 150);
  g.lineTo(260, 260);
  g.lineTo(360, 170);
  g.lineTo(480, 300);
  g.fill();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  const data = new DataTransfer();
  data.items.add(new File([blob], 'screenshot.png', { type: 'image/png' }));
  el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
}`;

// Runs in the page: drags a file (route-plan.gpx, the given bytes) onto `el` and drops it there.
const DROP_FILE = `(el, bytes) => {
  const data = new DataTransfer();
  data.items.add(new File([new Uint8Array(bytes)], 'route-plan.gpx', { type: 'application/gpx+xml' }));
  for (const type of ['dragenter', 'dragover', 'drop']) {
    el.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
  }
}`;

// Read in the page, through structural types (no DOM types here).
/** An <img> that has loaded: its natural width (0 while loading or broken). */
const loadedWidth = (el: unknown) => {
  const img = el as { complete: boolean; naturalWidth: number };
  return img.complete ? img.naturalWidth : 0;
};
/** How far an <audio> has played, once it knows its metadata (-1 before). */
const playedSeconds = (el: unknown) => {
  const audio = el as { readyState: number; currentTime: number };
  return audio.readyState >= 1 ? audio.currentTime : -1;
};
const scrollToTop = (el: unknown) => (el as { scrollIntoView: (o: object) => void }).scrollIntoView({ block: 'start' });

describe('rich messages in the browser', () => {
  let app: RunningApp;
  let browser: Browser;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startAppProcess();
    browser = await launchBrowser(FAKE_MEDIA_FLAGS);
    for (const name of ['alice', 'bob', 'carol']) ids[name] = (await apiLogin(app.url, name)).id;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const windowFor = (page: Page, peer: string) => page.locator(`[data-testid="chat-window"][data-peer-id="${ids[peer]}"]`);
  const bubbles = (page: Page, peer: string) => windowFor(page, peer).getByTestId('message-bubble');
  const MEDIA = ['image', 'file', 'voice', 'location'].map((k) => `[data-testid="message-${k}"]`).join(', ');
  /** The bubbles that carry media (the seeded conversation has text before them). */
  const mediaBubbles = (page: Page, peer: string) => bubbles(page, peer).filter({ has: page.locator(MEDIA) });

  async function openChat(page: Page, peer: string) {
    await page.goto(app.url + '/friends');
    await page.locator(`[data-testid="friend-item"][data-user-id="${ids[peer]}"] [data-testid="friend-chat-button"]`).click();
    await expect.poll(() => windowFor(page, peer).count()).toBe(1);
  }

  /** Pastes a PNG drawn on a canvas into the window's text box, as a screenshot from the clipboard. */
  async function pasteImage(page: Page, peer: string) {
    const input = windowFor(page, peer).getByTestId('chat-input');
    await input.click();
    await page.evaluate(`(${PASTE_PNG})(document.activeElement)`);
  }

  it('sends an image, a file, a voice message and a location; the friend sees, downloads and plays them', async () => {
    const alice = await loginAs(browser, app.url, 'alice', undefined, { geolocation: EIFFEL, permissions: ['geolocation', 'microphone'] });
    const carol = await loginAs(browser, app.url, 'carol');
    try {
      await openChat(alice.page, 'carol');
      const aliceWindow = windowFor(alice.page, 'carol');

      // A pasted image and an attached file wait in the preview; the text is the caption.
      await pasteImage(alice.page, 'carol');
      const file = randomBytes(48 * 1024);
      await aliceWindow.getByTestId('chat-file-input').setInputFiles({ name: 'field-notes.bin', mimeType: 'application/octet-stream', buffer: file });
      await expect.poll(() => aliceWindow.getByTestId('chat-staged-item').count()).toBe(2);
      await aliceWindow.getByTestId('chat-input').fill('The view from the ridge');
      await expect.poll(() => aliceWindow.getByTestId('chat-send').isEnabled()).toBe(true);
      await alice.page.waitForTimeout(400); // the Send button's colour transition, for the screenshot
      await aliceWindow.screenshot({ path: `${SHOTS}/rich-compose.png` });

      // A slow uplink (24 KB/s), so the uploads' progress can be seen.
      const cdp = await alice.context.newCDPSession(alice.page);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 24 * 1024 });
      await aliceWindow.getByTestId('chat-send').click();
      await expect.poll(() => aliceWindow.getByTestId('upload-progress').count()).toBeGreaterThan(0);
      await expect.poll(() => aliceWindow.getByTestId('upload-progress').first().getAttribute('aria-valuenow')).not.toBe('0');
      await aliceWindow.screenshot({ path: `${SHOTS}/rich-uploading.png` });
      // Carol's client is online: it may acknowledge them as delivered at once.
      const statuses = () => mediaBubbles(alice.page, 'carol').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')?.replace('delivered', 'sent')));
      await expect.poll(statuses, { timeout: 30_000 }).toEqual(['sent', 'sent']);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

      // A voice message from Chromium's fake microphone, a couple of seconds long.
      await aliceWindow.getByTestId('chat-record').click();
      await expect.poll(() => aliceWindow.getByTestId('voice-recorder-time').textContent(), { timeout: 10_000 }).toBe('0:02');
      await aliceWindow.getByTestId('voice-send').click();
      await expect.poll(statuses, { timeout: 30_000 }).toEqual(['sent', 'sent', 'sent']);
      // And where she is (the context's fake geolocation, permission granted).
      await aliceWindow.getByTestId('chat-location').click();
      await expect.poll(statuses, { timeout: 30_000 }).toEqual(['sent', 'sent', 'sent', 'sent']);

      // Carol: the thumbnail shows (a real image, decoded), with the caption under it.
      await openChat(carol.page, 'alice');
      const carolWindow = windowFor(carol.page, 'alice');
      const thumb = carolWindow.locator('[data-testid="message-image"] img');
      await expect.poll(() => thumb.evaluate(loadedWidth), { timeout: 15_000 }).toBeGreaterThan(0);
      expect(await thumb.getAttribute('src')).toContain('/thumbnail?');
      expect(await mediaBubbles(carol.page, 'alice').first().innerText()).toContain('The view from the ridge');

      // The file downloads byte for byte.
      const card = carolWindow.getByTestId('message-file');
      expect(await card.innerText()).toContain('field-notes.bin');
      expect(await card.innerText()).toContain('48 KB');
      const [download] = await Promise.all([carol.page.waitForEvent('download'), card.getByTestId('message-file-download').click()]);
      expect(download.suggestedFilename()).toBe('field-notes.bin');
      expect(readFileSync((await download.path())!).equals(file)).toBe(true);

      // The location card links to the map.
      const place = carolWindow.getByTestId('message-location');
      expect(await place.innerText()).toContain('48.85840, 2.29450');
      expect(await place.locator('a').getAttribute('href')).toContain('openstreetmap.org/?mlat=48.858400&mlon=2.294500');

      // The recording has its length from the server, and plays: the audio advances.
      const voice = carolWindow.getByTestId('message-voice');
      expect(Number(await voice.getAttribute('data-duration-ms'))).toBeGreaterThan(1000);
      expect(await voice.innerText()).toMatch(/0:0[2-4]/);
      await thumb.evaluate(scrollToTop);
      await carolWindow.screenshot({ path: `${SHOTS}/rich-messages.png` });
      await voice.getByTestId('message-voice-play').click();
      await expect.poll(() => voice.locator('audio').evaluate(playedSeconds), { timeout: 15_000 }).toBeGreaterThan(0);

      // The full-size image in the viewer.
      await carolWindow.getByTestId('message-image').click();
      const full = carol.page.getByTestId('image-viewer-img');
      await expect.poll(() => full.evaluate(loadedWidth)).toBe(480);
      await carol.page.screenshot({ path: `${SHOTS}/rich-viewer.png` });
      await carol.page.keyboard.press('Escape');
      await expect.poll(() => carol.page.getByTestId('image-viewer').count()).toBe(0);

      // The conversations list says what came last.
      await carol.page.getByTestId('topbar-messages').click();
      await expect.poll(() => carol.page.getByTestId('conversation-item').first().innerText()).toContain('[Location]');
      await aliceWindow.screenshot({ path: `${SHOTS}/rich-sent.png` });
    } finally {
      await alice.context.close();
      await carol.context.close();
    }
  });

  it('keeps a file whose upload failed through a reload, and sends it on retry', async () => {
    const bob = await loginAs(browser, app.url, 'bob');
    const alice = await loginAs(browser, app.url, 'alice');
    try {
      await openChat(bob.page, 'alice');
      await bob.page.route('**/api/uploads', (route) => route.abort('connectionfailed'));
      const file = randomBytes(20 * 1024);
      await windowFor(bob.page, 'alice').getByTestId('chat-file-input').setInputFiles({ name: 'kept.bin', mimeType: 'application/octet-stream', buffer: file });
      await windowFor(bob.page, 'alice').getByTestId('chat-send').click();
      await expect.poll(() => bubbles(bob.page, 'alice').filter({ hasText: 'kept.bin' }).getAttribute('data-status')).toBe('failed');

      await bob.page.unroute('**/api/uploads');
      await bob.page.reload();
      const kept = bubbles(bob.page, 'alice').filter({ hasText: 'kept.bin' });
      await expect.poll(() => kept.getAttribute('data-status')).toBe('failed');
      await windowFor(bob.page, 'alice').getByTestId('message-retry').click();
      await expect.poll(() => kept.getAttribute('data-status'), { timeout: 30_000 }).toMatch(/^(sent|delivered)$/);

      await openChat(alice.page, 'bob');
      const card = windowFor(alice.page, 'bob').getByTestId('message-file');
      await expect.poll(() => card.count()).toBe(1);
      const [download] = await Promise.all([alice.page.waitForEvent('download'), card.getByTestId('message-file-download').click()]);
      expect(readFileSync((await download.path())!).equals(file)).toBe(true);
    } finally {
      await bob.context.close();
      await alice.context.close();
    }
  });

  it('takes files dropped on a group window; a member downloads them', async () => {
    const alice = await loginAs(browser, app.url, 'alice');
    const bob = await loginAs(browser, app.url, 'bob');
    try {
      const { token } = await apiLogin(app.url, 'alice');
      const res = await fetch(`${app.url}/api/groups`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ridge walkers', memberIds: [ids.bob, ids.carol] }),
      });
      expect(res.status).toBe(201);
      const groupId = ((await res.json()) as { group: { id: string } }).group.id;
      const groupWindow = (page: Page) => page.locator(`[data-testid="chat-window"][data-group-id="${groupId}"]`);
      for (const page of [alice.page, bob.page]) {
        await page.goto(app.url + '/friends');
        await page.locator(`[data-testid="group-item"][data-group-id="${groupId}"]`).click();
        await expect.poll(() => groupWindow(page).count()).toBe(1);
      }

      const plan = randomBytes(30 * 1024);
      const target = JSON.stringify(`[data-testid="chat-window"][data-group-id="${groupId}"]`);
      await alice.page.evaluate(`(${DROP_FILE})(document.querySelector(${target}), ${JSON.stringify([...plan])})`);
      await expect.poll(() => groupWindow(alice.page).getByTestId('chat-staged-item').count()).toBe(1);
      await groupWindow(alice.page).getByTestId('chat-send').click();

      const card = groupWindow(bob.page).getByTestId('message-file');
      await expect.poll(() => card.count(), { timeout: 30_000 }).toBe(1);
      expect(await card.innerText()).toContain('route-plan.gpx');
      const [download] = await Promise.all([bob.page.waitForEvent('download'), card.getByTestId('message-file-download').click()]);
      expect(readFileSync((await download.path())!).equals(plan)).toBe(true);
    } finally {
      await alice.context.close();
      await bob.context.close();
    }
  });
});
