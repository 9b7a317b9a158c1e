// Frontend performance (issue 5): what the production build weighs, how fast the home page
// becomes usable in Chromium, and how smoothly a chat window with 5,000 messages scrolls.
//
// 1. Build: runs the production build, then sizes every JS/CSS asset raw and gzipped
//    (node:zlib gzipSync, default level), the entry chunk index.html loads, and the JS and CSS
//    the login page and the home page actually request (Resource Timing in the page).
// 2. Time to interactive of `/` for a signed-in user (session in localStorage), each time in a
//    fresh browser context with the HTTP cache disabled: navigation start → the works and people
//    lists are visible AND the socket is connected (Socket.IO's CONNECT packet has reached the
//    client), beside DOMContentLoaded, load and first contentful paint.
// 3. Scrolling: 5,000 messages between alice and bob (sent over the API), alice's window loads
//    them all, then the list is scrolled bottom → top → bottom a fixed number of pixels per
//    frame while requestAnimationFrame records frame times.
//
// Code that runs in the page is kept as plain JavaScript strings: the bench's TypeScript has no
// DOM types, and tsx's helpers must not leak into functions serialized for the browser.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, startAppProcess, type RunningApp } from '../tests/helpers/browser.ts';
import { percentile } from './lib/load.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(root, 'dist/public');

const TTI_RUNS = Number(process.env.BENCH_TTI_RUNS ?? 10);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5000);
/** Pixels scrolled per animation frame (≈ 7,200 px/s at 60 frames per second: a fast fling). */
const SCROLL_STEP = Number(process.env.BENCH_SCROLL_STEP ?? 120);
const LONG_FRAME_MS = 50;
const VIEWPORT = { width: 1280, height: 800 };

type Log = (s: string) => void;
const round = (n: number, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);
const kib = (bytes: number) => round(bytes / 1024, 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats {
  n: number;
  min: number;
  p50: number;
  max: number;
}
function stats(values: number[]): Stats {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return { n: sorted.length, min: round(sorted[0] ?? NaN), p50: round(percentile(sorted, 50)), max: round(sorted.at(-1) ?? NaN) };
}

/** Runs `(fnSource)(arg)` in the page and returns its (awaited) JSON result. */
function inPage<T>(page: Page, fnSource: string, arg: unknown = null): Promise<T> {
  return page.evaluate<T>(`(${fnSource})(${JSON.stringify(arg)})`);
}

/**
 * Polls a page predicate from here (the app's CSP forbids the eval that waitForFunction needs).
 * The figures themselves are timestamps taken in the page, so the polling interval adds nothing.
 */
async function waitFor(page: Page, predicateSource: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await inPage<boolean>(page, predicateSource))) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${predicateSource}`);
    await sleep(50);
  }
}

// ---- 1. Build size ---------------------------------------------------------------------------

interface Asset {
  file: string;
  kind: 'js' | 'css';
  bytes: number;
  gzipBytes: number;
}

export interface BuildResult {
  buildSeconds: number;
  assets: Asset[];
  totals: { js: { bytes: number; gzipBytes: number }; css: { bytes: number; gzipBytes: number } };
  entry: { file: string; bytes: number; gzipBytes: number };
  /** Everything index.html itself references (entry, modulepreloads, stylesheets). */
  initial: { files: string[]; jsGzipBytes: number; cssGzipBytes: number };
}

function runBuild(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'frontend/vite.config.ts', '--logLevel', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`vite build exited with ${code}:\n${out}`))));
  });
}

function measureAssets(buildSeconds: number): BuildResult {
  const dir = path.join(DIST, 'assets');
  const assets: Asset[] = readdirSync(dir)
    .filter((f) => f.endsWith('.js') || f.endsWith('.css'))
    .map((f) => {
      const buf = readFileSync(path.join(dir, f));
      return { file: `assets/${f}`, kind: f.endsWith('.js') ? ('js' as const) : ('css' as const), bytes: buf.length, gzipBytes: gzipSync(buf).length };
    })
    .sort((a, b) => b.gzipBytes - a.gzipBytes);
  const sum = (kind: Asset['kind']) =>
    assets.filter((a) => a.kind === kind).reduce((t, a) => ({ bytes: t.bytes + a.bytes, gzipBytes: t.gzipBytes + a.gzipBytes }), { bytes: 0, gzipBytes: 0 });

  const html = readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const entrySrc = /<script\b[^>]*type="module"[^>]*\bsrc="\/?([^"]+)"/.exec(html)?.[1];
  const entry = assets.find((a) => a.file === entrySrc);
  if (!entry) throw new Error(`entry chunk not found in index.html (${entrySrc ?? 'no module script'})`);
  const referenced = [...html.matchAll(/\b(?:src|href)="\/?(assets\/[^"]+)"/g)].map((m) => m[1]!);
  const initial = assets.filter((a) => referenced.includes(a.file));
  return {
    buildSeconds: round(buildSeconds),
    assets,
    totals: { js: sum('js'), css: sum('css') },
    entry: { file: entry.file, bytes: entry.bytes, gzipBytes: entry.gzipBytes },
    initial: {
      files: initial.map((a) => a.file),
      jsGzipBytes: initial.filter((a) => a.kind === 'js').reduce((t, a) => t + a.gzipBytes, 0),
      cssGzipBytes: initial.filter((a) => a.kind === 'css').reduce((t, a) => t + a.gzipBytes, 0),
    },
  };
}

// ---- Browser plumbing ------------------------------------------------------------------------

interface Session {
  token: string;
  user: { id: string; username: string; displayName: string; avatarUrl: string | null };
}

async function login(url: string, username: string): Promise<Session> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'password123' }),
  });
  if (!res.ok) throw new Error(`login ${username}: HTTP ${res.status}`);
  return (await res.json()) as Session;
}

/**
 * Installed before any page script: stores the session the way stores/auth.ts does (unless one is
 * there), and records in `window.__bench` when the works / people lists first become visible and
 * when Socket.IO's CONNECT packet ("40…") reaches the client over polling or WebSocket. The mark
 * is taken two macrotasks later, after engine.io's own deferred packet handling has run the
 * client's `connect` listeners (the app's connectionState is 'connected' by then).
 */
function instrumentation(session: Session | null): string {
  return `(() => {
  const session = ${JSON.stringify(session ? JSON.stringify({ token: session.token, user: session.user }) : null)};
  try { if (session && !localStorage.getItem('friend-chat:session')) localStorage.setItem('friend-chat:session', session); } catch {}
  const b = (window.__bench = { socketConnected: null, worksVisible: null, peopleVisible: null });
  const mark = (k) => { if (b[k] === null) b[k] = performance.now(); };
  const isConnect = (data) => typeof data === 'string' && data.split('\\x1e').some((p) => p.startsWith('40'));
  const connected = () => setTimeout(() => setTimeout(() => mark('socketConnected'), 0), 0);
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    if (String(url).includes('/socket.io/')) {
      this.addEventListener('readystatechange', () => {
        if (this.readyState === 4 && b.socketConnected === null && isConnect(this.responseText)) connected();
      });
    }
    return open.call(this, method, url, ...rest);
  };
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      if (String(args[0]).includes('/socket.io/')) {
        this.addEventListener('message', (e) => { if (b.socketConnected === null && isConnect(e.data)) connected(); });
      }
    }
  };
  const visible = (sel) => {
    const el = document.querySelector(sel);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const check = () => {
    if (b.worksVisible === null && visible('[data-testid="work-item"]')) mark('worksVisible');
    if (b.peopleVisible === null && visible('[data-testid="person-item"]')) mark('peopleVisible');
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true });
})();`;
}

async function freshContext(browser: Browser, session: Session | null): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US' });
  await context.addInitScript(instrumentation(session));
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  return { context, page };
}

interface ResourceEntry {
  name: string;
  transfer: number;
  encoded: number;
  decoded: number;
}
const RESOURCES = `() => performance.getEntriesByType('resource').map((e) => ({ name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize }))`;

export interface PageWeight {
  js: { files: string[]; transferBytes: number; bodyBytes: number; gzipBytes: number };
  css: { files: string[]; transferBytes: number; bodyBytes: number; gzipBytes: number };
}

/** JS and CSS a page requested: as served (the server does not compress) and gzipped. */
function pageWeight(entries: ResourceEntry[], build: BuildResult): PageWeight {
  const gzipOf = new Map(build.assets.map((a) => [a.file, a.gzipBytes]));
  const pick = (ext: string) => {
    const list = entries.filter((e) => new URL(e.name).pathname.endsWith(ext));
    const files = list.map((e) => new URL(e.name).pathname.slice(1));
    return {
      files,
      transferBytes: list.reduce((t, e) => t + e.transfer, 0),
      bodyBytes: list.reduce((t, e) => t + e.encoded, 0),
      gzipBytes: files.reduce((t, f) => t + (gzipOf.get(f) ?? 0), 0),
    };
  };
  return { js: pick('.js'), css: pick('.css') };
}

// ---- 2. Time to interactive ----------------------------------------------------------------

interface Navigation {
  fcp: number;
  domContentLoaded: number;
  load: number;
  worksVisible: number;
  peopleVisible: number;
  socketConnected: number;
  interactive: number;
}

const NAV_FIGURES = `() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const b = window.__bench;
  return {
    fcp: fcp ? fcp.startTime : NaN,
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : NaN,
    load: nav ? nav.loadEventEnd : NaN,
    worksVisible: b.worksVisible,
    peopleVisible: b.peopleVisible,
    socketConnected: b.socketConnected,
  };
}`;
const READY = `() => {
  const b = window.__bench;
  const nav = performance.getEntriesByType('navigation')[0];
  return !!b && b.worksVisible !== null && b.peopleVisible !== null && b.socketConnected !== null && !!nav && nav.loadEventEnd > 0
    && !document.querySelector('[data-testid="connection-status"]') && location.pathname === '/';
}`;

async function measureHome(browser: Browser, url: string, session: Session): Promise<{ nav: Navigation; resources: ResourceEntry[] }> {
  const { context, page } = await freshContext(browser, session);
  try {
    await page.goto(url + '/', { waitUntil: 'load' });
    await waitFor(page, READY, 60_000);
    const f = await inPage<Omit<Navigation, 'interactive'>>(page, NAV_FIGURES);
    const nav = { ...f, interactive: Math.max(f.worksVisible, f.peopleVisible, f.socketConnected) };
    await page.waitForLoadState('networkidle');
    return { nav, resources: await inPage<ResourceEntry[]>(page, RESOURCES) };
  } finally {
    await context.close();
  }
}

async function measureLogin(browser: Browser, url: string): Promise<{ fcp: number; resources: ResourceEntry[] }> {
  const { context, page } = await freshContext(browser, null);
  try {
    await page.goto(url + '/login', { waitUntil: 'load' });
    await page.getByTestId('login-submit').waitFor({ state: 'visible' });
    await page.waitForLoadState('networkidle');
    const { fcp } = await inPage<{ fcp: number }>(page, NAV_FIGURES);
    return { fcp, resources: await inPage<ResourceEntry[]>(page, RESOURCES) };
  } finally {
    await context.close();
  }
}

export interface TtiResult {
  runs: number;
  /** One navigation before the measured ones (server and browser warm-up), not in the stats. */
  warmup: Navigation;
  samples: Navigation[];
  ms: Record<keyof Navigation, Stats>;
}

async function benchTti(browser: Browser, url: string, session: Session, log: Log): Promise<{ tti: TtiResult; homeResources: ResourceEntry[] }> {
  const warm = await measureHome(browser, url, session);
  const samples: Navigation[] = [];
  for (let i = 0; i < TTI_RUNS; i++) {
    const { nav } = await measureHome(browser, url, session);
    samples.push(nav);
    log(
      `home ${i + 1}/${TTI_RUNS}: FCP ${round(nav.fcp)} ms, DCL ${round(nav.domContentLoaded)} ms, load ${round(nav.load)} ms, ` +
        `works ${round(nav.worksVisible)} ms, people ${round(nav.peopleVisible)} ms, socket ${round(nav.socketConnected)} ms → usable ${round(nav.interactive)} ms`,
    );
  }
  const keys = Object.keys(warm.nav) as (keyof Navigation)[];
  const ms = Object.fromEntries(keys.map((k) => [k, stats(samples.map((s) => s[k]))])) as Record<keyof Navigation, Stats>;
  const roundNav = (n: Navigation) => Object.fromEntries(keys.map((k) => [k, round(n[k])])) as unknown as Navigation;
  return { tti: { runs: TTI_RUNS, warmup: roundNav(warm.nav), samples: samples.map(roundNav), ms }, homeResources: warm.resources };
}

// ---- 3. Scrolling 5,000 messages -------------------------------------------------------------

async function api(url: string, token: string, method: string, pathname: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url + pathname, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${pathname}: HTTP ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const WORDS = 'the ink landscape is on the home page now and the pixel cats are still for sale if you want some stickers for your laptop'.split(' ');
/** Mixed lengths (one to a few lines), so bubbles differ in height as in a real conversation. */
function messageText(i: number): string {
  const words = 2 + ((i * 7919) % 37);
  const out: string[] = [];
  for (let w = 0; w < words; w++) out.push(WORDS[(i + w * 3) % WORDS.length]!);
  return `#${i} ${out.join(' ')}`;
}

async function insertMessages(url: string, alice: Session, bob: Session, n: number, log: Log): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const [from, to] = i % 2 === 0 ? [bob, alice] : [alice, bob];
      await api(url, from.token, 'POST', `/api/messages/${to.user.id}`, { content: messageText(i), clientId: `bench-${i}` });
      if ((i + 1) % 1000 === 0) log(`inserted ${i + 1}/${n} messages`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return (performance.now() - started) / 1000;
}

/** Walks the conversation through the history API: how many messages it holds, and the newest. */
async function countConversation(url: string, me: Session, peerId: string): Promise<{ total: number; newestId: string }> {
  let total = 0;
  let newestId = '';
  let before: string | null = null;
  do {
    const page = (await api(url, me.token, 'GET', `/api/messages/${peerId}?limit=100${before ? `&before=${encodeURIComponent(before)}` : ''}`)) as {
      messages: { id: string }[];
      nextCursor: string | null;
    };
    // The first page is the newest, oldest first within it.
    newestId ||= page.messages.at(-1)?.id ?? '';
    total += page.messages.length;
    before = page.nextCursor;
  } while (before);
  return { total, newestId };
}

/** Resolves once the page has had no HTTP request and no WebSocket frame for `quietMs`. */
async function waitQuiet(page: Page, quietMs: number, capMs: number): Promise<void> {
  let last = performance.now();
  const bump = () => (last = performance.now());
  page.on('request', bump);
  page.on('requestfinished', bump);
  const sockets: { off: () => void }[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', bump);
    ws.on('framesent', bump);
    sockets.push({ off: () => (ws.off('framereceived', bump), ws.off('framesent', bump)) });
  });
  const started = performance.now();
  while (performance.now() - last < quietMs && performance.now() - started < capMs) await sleep(100);
  page.off('request', bump);
  page.off('requestfinished', bump);
  for (const s of sockets) s.off();
}

const LIST = `document.querySelector('[data-testid="chat-window"] [data-testid="message-list"]')`;

const START = `'[data-testid="history-start"]'`;

/**
 * Scrolls to the top again and again (as a reader would) until the start of the conversation is
 * shown, noting every message that was rendered on the way and the most bubbles at once.
 */
const LOAD_ALL = `async ({ capMs }) => {
  const list = ${LIST};
  const bubbles = list.getElementsByClassName('bubble');
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const seen = new Set();
  const t0 = performance.now();
  let maxBubbles = 0;
  while (!(list.scrollTop === 0 && list.querySelector(${START})) && performance.now() - t0 < capMs) {
    list.scrollTop = list.scrollTop === 0 ? 1 : 0;
    await frame();
    maxBubbles = Math.max(maxBubbles, bubbles.length);
    for (const b of bubbles) seen.add(b.dataset.messageId);
  }
  return { ms: performance.now() - t0, seen: seen.size, maxBubbles };
}`;

/**
 * One frame loop: every animation frame moves the list `step` px ('up' or 'down') and records the
 * time since the previous frame. Going up, a list at the very top that has not rendered every
 * message yet is nudged (scrollTop 1) so the app's scroll handler grows the window again.
 */
const SCROLL_PASS = `async ({ direction, step, newestId, capMs }) => {
  const list = ${LIST};
  const bubbles = list.getElementsByClassName('bubble');
  const all = document.getElementsByTagName('*');
  const frames = [];
  let maxBubbles = bubbles.length, maxDom = all.length, distance = 0, tail = -1;
  const startBubbles = bubbles.length;
  const t0 = performance.now();
  return await new Promise((resolve) => {
    let prev = null;
    const tick = (ts) => {
      if (prev !== null) frames.push(ts - prev);
      prev = ts;
      if (bubbles.length > maxBubbles) maxBubbles = bubbles.length;
      if (frames.length % 30 === 0 && all.length > maxDom) maxDom = all.length;
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 1;
      const done = direction === 'up'
        ? list.scrollTop === 0 && list.querySelector(${START}) !== null
        : atBottom && bubbles.length > 0 && bubbles[bubbles.length - 1].dataset.messageId === newestId;
      if (tail < 0 && done) tail = 30; // a few frames more: the app reacts to the last scroll
      if (tail === 0 || ts - t0 > capMs) {
        if (all.length > maxDom) maxDom = all.length;
        const heap = performance.memory ? performance.memory.usedJSHeapSize : null;
        resolve({ frames, ms: performance.now() - t0, distance, startBubbles, endBubbles: bubbles.length, maxBubbles, maxDom,
          heapBytes: heap, reachedEnd: tail === 0 });
        return;
      }
      if (tail > 0) tail--;
      else {
        const before = list.scrollTop;
        if (direction === 'up') list.scrollTop = before === 0 ? 1 : Math.max(0, before - step);
        else list.scrollTop = before + step;
        distance += Math.abs(list.scrollTop - before);
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}`;

interface PassRaw {
  frames: number[];
  ms: number;
  distance: number;
  startBubbles: number;
  endBubbles: number;
  maxBubbles: number;
  maxDom: number;
  heapBytes: number | null;
  reachedEnd: boolean;
}

export interface ScrollPass {
  direction: 'up' | 'down';
  reachedEnd: boolean;
  seconds: number;
  pixels: number;
  frames: number;
  frameMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  longFrames: number;
  over33ms: number;
  bubbles: { start: number; end: number; max: number };
  maxDomElements: number;
  heapMiB: number | null;
}

function summarizePass(direction: 'up' | 'down', r: PassRaw): ScrollPass {
  const sorted = [...r.frames].sort((a, b) => a - b);
  return {
    direction,
    reachedEnd: r.reachedEnd,
    seconds: round(r.ms / 1000),
    pixels: Math.round(r.distance),
    frames: sorted.length,
    frameMs: {
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? NaN),
      mean: round(sorted.reduce((t, x) => t + x, 0) / Math.max(1, sorted.length)),
    },
    longFrames: sorted.filter((x) => x > LONG_FRAME_MS).length,
    over33ms: sorted.filter((x) => x > 33.4).length,
    bubbles: { start: r.startBubbles, end: r.endBubbles, max: r.maxBubbles },
    maxDomElements: r.maxDom,
    heapMiB: r.heapBytes === null ? null : round(r.heapBytes / 2 ** 20),
  };
}

export interface IdleFrames {
  frames: number;
  p50: number;
  p99: number;
  max: number;
  longFrames: number;
}

const IDLE = `async (n) => {
  const f = [];
  let p = null;
  for (let i = 0; i <= n; i++) {
    const t = await new Promise((r) => requestAnimationFrame(r));
    if (p !== null) f.push(t - p);
    p = t;
  }
  return f;
}`;

/** About 3 s of animation frames with nothing happening. */
async function idleFrames(page: Page): Promise<IdleFrames> {
  const sorted = (await inPage<number[]>(page, IDLE, 180)).sort((a, b) => a - b);
  return {
    frames: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
    longFrames: sorted.filter((x) => x > LONG_FRAME_MS).length,
  };
}

const loadavg = () => os.loadavg().map((x) => round(x, 2));

export interface ScrollResult {
  messagesInserted: number;
  insertSeconds: number;
  conversationMessages: number;
  scrollStepPx: number;
  /**
   * Frame times of the page doing nothing for 3 s (no scrolling): the frame clock of this headless


   */
  idle: { bottom: IdleFrames; top: IdleFrames };
  /** os.loadavg() (1, 5, 15 min) when the scroll passes started and when they ended. */
  loadAverage: { before: number[]; after: number[] };
  /** Scrolling up to the start: distinct messages rendered on the way, and the most bubbles at once. */
  loadAll: { seconds: number; messagesRendered: number; maxBubbles: number };
  /** Bubbles in the DOM right after returning to the bottom (the window shrinks back). */
  bubblesAtBottom: number;
  passes: ScrollPass[];
}

async function benchScroll(browser: Browser, url: string, alice: Session, bob: Session, log: Log): Promise<ScrollResult> {
  const insertSeconds = await insertMessages(url, alice, bob, MESSAGES, log);
  const { total, newestId } = await countConversation(url, alice, bob.user.id);
  log(`inserted ${MESSAGES} messages in ${round(insertSeconds)} s; the conversation holds ${total}`);

  const { context, page } = await freshContext(browser, alice);
  try {
    await page.goto(url + '/friends');
    await page.locator(`[data-testid="friend-item"][data-user-id="${bob.user.id}"] [data-testid="friend-chat-button"]`).click();
    const win = page.locator(`[data-testid="chat-window"][data-peer-id="${bob.user.id}"]`);
    await win.getByTestId('message-bubble').first().waitFor({ state: 'visible', timeout: 60_000 });
    // A first visit syncs the whole history over the socket (see socket/resync.ts): let it finish.
    await waitQuiet(page, 2000, 120_000);

    const loaded = await inPage<{ ms: number; seen: number; maxBubbles: number }>(page, LOAD_ALL, { capMs: 600_000 });
    log(
      `loaded the whole conversation by scrolling up: ${loaded.seen}/${total} messages rendered on the way, at most ${loaded.maxBubbles} at once, in ${round(loaded.ms / 1000)} s`,
    );
    await page.waitForLoadState('networkidle');

    const pass = async (direction: 'up' | 'down'): Promise<ScrollPass> => {
      const raw = await inPage<PassRaw>(page, SCROLL_PASS, { direction, step: SCROLL_STEP, newestId, capMs: 300_000 });
      const p = summarizePass(direction, raw);
      log(
        `scroll ${direction}: ${p.pixels} px in ${p.seconds} s, ${p.frames} frames, frame p50 ${p.frameMs.p50} / p95 ${p.frameMs.p95} / p99 ${p.frameMs.p99} / max ${p.frameMs.max} ms, ` +
          `${p.longFrames} frames > ${LONG_FRAME_MS} ms; bubbles ${p.bubbles.start} → ${p.bubbles.end} (max ${p.bubbles.max}), max ${p.maxDomElements} elements${p.reachedEnd ? '' : ' (time cap hit)'}`,
      );
      return p;
    };
    const idle = async (where: 'bottom' | 'top'): Promise<IdleFrames> => {
      const f = await idleFrames(page);
      log(`idle at the ${where} (no scrolling): frame p50 ${f.p50} / p99 ${f.p99} / max ${f.max} ms, ${f.longFrames} frames > ${LONG_FRAME_MS} ms`);
      return f;
    };
    // From the start of the conversation (where loading it left the list) down to the newest
    // message, then all the way up again.
    const before = loadavg();
    const idleTop = await idle('top');
    const down = await pass('down');
    const bubblesAtBottom = await win.getByTestId('message-bubble').count();
    log(`at the bottom again: ${bubblesAtBottom} bubbles in the DOM`);
    const idleBottom = await idle('bottom');
    const up = await pass('up');
    const after = loadavg();
    log(`load average (1/5/15 min): ${before.join(' ')} before the passes, ${after.join(' ')} after`);
    return {
      messagesInserted: MESSAGES,
      insertSeconds: round(insertSeconds),
      conversationMessages: total,
      scrollStepPx: SCROLL_STEP,
      idle: { bottom: idleBottom, top: idleTop },
      loadAverage: { before, after },
      loadAll: { seconds: round(loaded.ms / 1000), messagesRendered: loaded.seen, maxBubbles: loaded.maxBubbles },
      bubblesAtBottom,
      passes: [down, up],
    };
  } finally {
    await context.close();
  }
}

// ---- The benchmark -----------------------------------------------------------------------------

export interface FrontendResult {
  chromium: string;
  viewport: typeof VIEWPORT;
  build: BuildResult;
  pages: { login: PageWeight & { fcpMs: number }; home: PageWeight };
  tti: TtiResult;
  scroll: ScrollResult;
}

export async function benchFrontend(log: Log): Promise<FrontendResult> {
  log('building the frontend (vite build)…');
  const build = measureAssets(await runBuild());
  log(
    `build: ${round(build.buildSeconds)} s; JS ${kib(build.totals.js.bytes)} KiB (${kib(build.totals.js.gzipBytes)} KiB gzip) in ${build.assets.filter((a) => a.kind === 'js').length} files, ` +
      `CSS ${kib(build.totals.css.bytes)} KiB (${kib(build.totals.css.gzipBytes)} KiB gzip); entry ${build.entry.file} ${kib(build.entry.bytes)} KiB / ${kib(build.entry.gzipBytes)} KiB gzip`,
  );
  for (const a of build.assets) log(`  ${a.file.padEnd(44)} ${String(kib(a.bytes)).padStart(8)} KiB ${String(kib(a.gzipBytes)).padStart(7)} KiB gzip`);

  let app: RunningApp | undefined;
  let browser: Browser | undefined;
  try {
    app = await startAppProcess({ CHAT_RATE_LIMIT: '100000', LOGIN_RATE_LIMIT: '1000', LOGIN_ADDRESS_RATE_LIMIT: '1000' });
    browser = await launchBrowser();
    const chromium = browser.version();
    log(`app at ${app.url}; Chromium ${chromium}`);
    const alice = await login(app.url, 'alice');
    const bob = await login(app.url, 'bob');

    const loginPage = await measureLogin(browser, app.url);
    const loginWeight = { ...pageWeight(loginPage.resources, build), fcpMs: round(loginPage.fcp) };
    const { tti, homeResources } = await benchTti(browser, app.url, alice, log);
    const home = pageWeight(homeResources, build);
    for (const [name, w] of [['login', loginWeight], ['home', home]] as const) {
      log(
        `${name} page: JS ${w.js.files.length} files, ${kib(w.js.transferBytes)} KiB transferred (uncompressed), ${kib(w.js.gzipBytes)} KiB gzip; ` +
          `CSS ${kib(w.css.transferBytes)} KiB / ${kib(w.css.gzipBytes)} KiB gzip`,
      );
    }
    log(`home usable: p50 ${tti.ms.interactive.p50} ms, max ${tti.ms.interactive.max} ms (FCP p50 ${tti.ms.fcp.p50} ms, DCL p50 ${tti.ms.domContentLoaded.p50} ms, load p50 ${tti.ms.load.p50} ms)`);

    const scroll = await benchScroll(browser, app.url, alice, bob, log);
    return { chromium, viewport: VIEWPORT, build, pages: { login: loginWeight, home }, tti, scroll };
  } finally {
    await browser?.close();
    await app?.stop();
  }
}
