// End-to-end helpers: the app started as `npm start` starts it (a child process running
// backend/src/main.ts on a fresh PGlite directory, demo seed included), and Debian's Chromium
// driven by playwright-core (never a downloaded browser).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface RunningApp {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export async function startAppProcess(env: Record<string, string> = {}): Promise<RunningApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fc-e2e-'));
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'backend/src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      REDIS_URL: '',
      PGLITE_DIR: path.join(dir, 'pglite'),
      LOG_LEVEL: 'info',
      PORT: String(port),
      HOST: '127.0.0.1',
      BCRYPT_ROUNDS: '4',
      SKIP_FRONTEND_BUILD: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!.replace('localhost', '127.0.0.1'));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`app exited with ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`app did not start in time:\n${out}`)), 90_000).unref();
  });
  return {
    url,
    child,
    output: () => out,
    async stop() {
      // A child killed by a signal has signalCode set and exitCode null.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!env.KEEP_DATA) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Logs in over the API (for ids and tokens the test needs alongside the browser). */
export async function apiLogin(url: string, username: string, password = 'password123'): Promise<{ token: string; id: string }> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json()) as { token: string; user: { id: string } };
  return { token: body.token, id: body.user.id };
}

/**
 * Chromium's own stand-ins for a microphone and camera (a beeping tone) and for the permission
 * prompt (always yes): getUserMedia and MediaRecorder work without hardware or a click.
 */
export const FAKE_MEDIA_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** `args`: extra Chromium switches (e.g. `--host-resolver-rules=…` to reach the app by another name, FAKE_MEDIA_FLAGS). */
export function launchBrowser(args: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, ...args], headless: true });
}

/**
 * A fresh browser context (its own storage: one signed-in person) logged in through the UI.
 * `options`: more context settings, e.g. `{ geolocation, permissions: ['geolocation'] }`.
 */
export async function loginAs(
  browser: Browser,
  url: string,
  username: string,
  viewport = { width: 1280, height: 800 },
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const password = 'password123';
  const context = await browser.newContext({ viewport, locale: 'en-US', ...options });
  const page = await context.newPage();
  await page.goto(url + '/login');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return { context, page };
}
