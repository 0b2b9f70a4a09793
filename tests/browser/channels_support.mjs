// Helpers of the channel settings browser tests: start the real `kefu` binary (KEFU_BIN) on
// SQLite in a temporary folder, sign in to the console, call the API, and a local HTTP server
// that records what it receives (a webhook receiver, a stand-in provider API).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function until(check, what, deadlineMs = 15_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts kefu with `env` added to the test environment; resolves to `{base, stop}`.
 * @param {Record<string, string>} env
 */
export async function startKefu(env = {}) {
  const bin = process.env.KEFU_BIN;
  assert.ok(bin, 'set KEFU_BIN to the kefu binary');
  const dir = mkdtempSync(join(tmpdir(), 'kefu-channels-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(bin, [], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      KEFU_LISTEN: `127.0.0.1:${port}`,
      KEFU_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      KEFU_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      ...(process.env.KEFU_ASSETS_DIR ? { KEFU_ASSETS_DIR: process.env.KEFU_ASSETS_DIR } : {}),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await until(async () => {
    try { return (await fetch(`${base}/readyz`)).ok; } catch { return false; }
  }, `kefu at ${base}`, 60_000);
  return {
    base,
    async stop() {
      server.kill('SIGTERM');
      await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** An API client signed in as the admin. */
export async function apiAs(base, who = ADMIN) {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(who),
  });
  assert.equal(res.status, 200, 'admin login');
  const { token } = await res.json();
  const call = async (method, path, body) => {
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  return { token, call };
}

/**
 * A new page in its own context, signed in to the console as the admin, in `lang`.
 * @returns {Promise<import('playwright-core').Page>}
 */
export async function consolePage(browser, base, lang = 'en') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((l) => { localStorage.setItem('kefu.console.lang', l); }, lang);
  const page = await context.newPage();
  page.on('pageerror', (e) => { console.error('page error:', e); });
  await page.goto(`${base}/console/`);
  await page.getByTestId('login-email').fill(ADMIN.email);
  await page.getByTestId('login-password').fill(ADMIN.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-submit').waitFor({ state: 'detached' });
  return page;
}

/** Opens `#/settings/<path>` and waits for the page's root. */
export async function openSettings(page, base, path, testid) {
  await page.goto(`${base}/console/#/settings/${path}`);
  await page.getByTestId(testid).waitFor();
}

/**
 * A local HTTP server that records requests and answers with `respond(req, body)` (default
 * 200 "ok"). Resolves to `{url, requests, close}`.
 */
export async function recorder(respond) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const out = respond ? respond(req, body) : { status: 200, body: 'ok' };
      res.writeHead(out.status, { 'content-type': out.type || 'text/plain' });
      res.end(out.body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** A full-page screenshot into `$KEFU_SCREENSHOTS/<name>.png` when that variable is set. */
export async function shot(page, name) {
  const dir = process.env.KEFU_SCREENSHOTS;
  if (dir) await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
