// Shared by every console browser test: start the real `kefu` binary (KEFU_BIN) on SQLite in a
// temporary folder (with a known admin, or as a first start that prints one), launch Debian's
// Chromium (CHROMIUM), sign in, call the API, and a local HTTP server that records what it
// receives (a webhook receiver, a stand-in provider API). With KEFU_ASSETS_DIR set, the binary
// serves the console from that folder.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually(fn, what, deadlineMs = 15_000) {
  const deadline = Date.now() + deadlineMs;
  let last;
  while (Date.now() < deadline) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${last}`);
}

/**
 * Starts kefu and Chromium. Returns `{base, browser, api, token, apiAs, newPage, login,
 * signedInPage, cli, output, stop}`.
 * `env` is added to the server's environment; `bootstrap: false` starts without a configured
 * admin, so the first start creates one and prints its password (see `output`).
 * @param {{env?: Record<string, string>, bootstrap?: boolean}} [opts]
 */
export async function startKefu(opts = {}) {
  const bin = process.env.KEFU_BIN;
  assert.ok(bin, 'set KEFU_BIN to the kefu binary');
  const dir = mkdtempSync(join(tmpdir(), 'kefu-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    KEFU_LISTEN: `127.0.0.1:${port}`,
    KEFU_PUBLIC_URL: base,
    ...(opts.bootstrap === false ? {} : {
      KEFU_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      KEFU_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    }),
    ...(process.env.KEFU_ASSETS_DIR ? { KEFU_ASSETS_DIR: process.env.KEFU_ASSETS_DIR } : {}),
    ...(opts.env || {}),
  };
  const server = spawn(bin, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  server.stdout.setEncoding('utf8');
  server.stdout.on('data', (c) => { stdout += c; });
  await eventually(async () => (await fetch(`${base}/readyz`)).ok, `kefu at ${base}`, 60_000);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

  /** Calls the API; resolves to `{status, body}`. */
  async function api(method, path, { token, body } = {}) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = text; }
    return { status: res.status, body: json };
  }

  /** A bearer token for an account. */
  async function token(email = ADMIN.email, password = ADMIN.password) {
    const r = await api('POST', '/auth/login', { body: { email, password } });
    assert.equal(r.status, 200, `login of ${email}: ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  /**
   * An API client signed in as `who` (the admin by default): `{token, call(method, path, body)}`.
   * @param {{email: string, password: string}} [who]
   */
  async function apiAs(who = ADMIN) {
    const t = await token(who.email, who.password);
    return { token: t, call: async (method, path, body) => api(method, path, { token: t, body }) };
  }

  /**
   * A page in a fresh browser context, language chosen before the console loads.
   * @param {{lang?: string, width?: number, height?: number}} [o]
   */
  async function newPage(o = {}) {
    const context = await browser.newContext({ viewport: { width: o.width || 1280, height: o.height || 800 } });
    const lang = o.lang || 'en';
    await context.addInitScript((l) => { if (!localStorage.getItem('kefu.console.lang')) localStorage.setItem('kefu.console.lang', l); }, lang);
    const page = await context.newPage();
    page.on('pageerror', (e) => { console.error('page error:', e.message); });
    return page;
  }

  /** Signs in through the login form; waits for the header. */
  async function login(page, email = ADMIN.email, password = ADMIN.password) {
    await page.goto(`${base}/console/`);
    await page.getByTestId('login-email').fill(email);
    await page.getByTestId('login-password').fill(password);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('logout').waitFor();
  }

  /**
   * A new page in its own context, signed in as the admin, in `lang`.
   * @param {string} [lang]
   */
  async function signedInPage(lang = 'en') {
    const page = await newPage({ lang, height: 900 });
    await login(page);
    return page;
  }

  /**
   * Runs `kefu <args>` against the same data (folder and environment) as the server; resolves
   * to `{code, stdout, stderr}`.
   * @param {string[]} args
   */
  function cli(args) {
    return new Promise((resolve) => {
      execFile(bin, args, { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  async function stop() {
    await browser.close().catch(() => {});
    server.kill('SIGTERM');
    await new Promise((r) => { if (server.exitCode !== null) r(); else server.once('exit', r); });
    rmSync(dir, { recursive: true, force: true });
  }

  return { base, browser, api, token, apiAs, newPage, login, signedInPage, cli, output: () => stdout, stop };
}

/** Opens a settings page by its navigation link and waits for it. */
export async function openSettings(page, id) {
  await page.getByTestId('open-settings').click();
  await page.getByTestId(`nav-${id}`).click();
  await page.getByTestId(`page-${id}`).waitFor();
}

/**
 * Opens `#/settings/<path>` directly (a deep link, e.g. `routing/7`) and waits for the element
 * with test id `testid`.
 */
export async function openRoute(page, path, testid) {
  await page.goto(new URL(`/console/#/settings/${path}`, page.url()).href);
  await page.getByTestId(testid).waitFor();
}

/** The error text shown next to the field with `data-field` = `field`. */
export function fieldError(scope, field) {
  return scope.locator(`[data-field="${field}"] .field-error`);
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

/** Texts a user sees or hears: visible lines, placeholders, titles, ARIA labels. */
async function shownTexts(page) {
  return page.evaluate(() => {
    const out = new Set(document.body.innerText.split('\n').map((s) => s.trim()).filter(Boolean));
    for (const el of document.querySelectorAll('[placeholder], [title], [aria-label]')) {
      for (const a of ['placeholder', 'title', 'aria-label']) {
        const v = el.getAttribute(a);
        if (v) out.add(v.trim());
      }
    }
    out.add(document.title);
    return [...out];
  });
}

/** Every English string of the console that differs from its zh-CN text. */
async function englishOnly(page) {
  return page.evaluate(async () => {
    const { allStrings } = await import('/console/i18n.js');
    const en = allStrings('en');
    const zh = allStrings('zh-CN');
    return Object.keys(en).filter((k) => zh[k] !== en[k]).map((k) => en[k]);
  });
}

/** Fails when a shown text is an English UI string or reads like an English sentence. */
export async function assertNoEnglish(page, where, userData = []) {
  const english = await englishOnly(page);
  const exact = new Set(english);
  // Fixed parts of templates ("Edit {name}" → "Edit ") and whole strings, for substrings.
  const parts = english.flatMap((s) => s.split(/\{\w+\}/)).map((s) => s.trim()).filter((s) => s.length >= 8);
  for (const text of await shownTexts(page)) {
    let t = text;
    for (const d of userData) t = t.split(d).join('');
    assert.ok(!exact.has(t.trim()), `${where}: "${text}" is an English UI string`);
    for (const p of parts) assert.ok(!t.includes(p), `${where}: "${text}" contains English "${p}"`);
    assert.doesNotMatch(t, /[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}/, `${where}: "${text}" reads like English`);
  }
}
