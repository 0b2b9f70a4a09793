// A visitor writes through the widget on the demo page; an agent answers from the console in a
// second page; the answer appears in the widget. Runs the real `kefu` binary (KEFU_BIN) on
// SQLite in a temporary folder and Debian's Chromium (CHROMIUM, default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

const BIN = process.env.KEFU_BIN;
let server, browser, base, dir;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function waitReady(url, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    try { if ((await fetch(url)).ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kefu did not become ready at ${url}`);
}

before(async () => {
  assert.ok(BIN, 'set KEFU_BIN to the kefu binary');
  dir = mkdtempSync(join(tmpdir(), 'kefu-browser-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, [], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      KEFU_LISTEN: `127.0.0.1:${port}`,
      KEFU_BOOTSTRAP_ADMIN_EMAIL: 'agent@example.com',
      KEFU_BOOTSTRAP_ADMIN_PASSWORD: 'agent-password',
      // Provider stand-ins of future console tests run on loopback.
      KEFU_CHANNELS__ALLOW_PRIVATE_TARGETS: 'true',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitReady(`${base}/readyz`, 60_000);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Anything the Content-Security-Policy blocked on a page (the browser reports it on the console).
const cspViolations = [];
function watchCsp(page) {
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  return page;
}

test('a visitor message answered from the console appears in the widget', async () => {
  const visitor = watchCsp(await browser.newPage());
  await visitor.goto(`${base}/`);
  await visitor.getByTestId('kefu-launcher').click();
  await visitor.getByTestId('kefu-panel').waitFor();
  await visitor.getByTestId('kefu-input').fill('Hello from the browser, 你好');
  await visitor.getByTestId('kefu-send').click();
  await visitor.locator('[data-testid="kefu-message"][data-direction="inbound"][data-status="sent"]').first().waitFor({ timeout: 15_000 });

  const agent = watchCsp(await browser.newPage());
  await agent.goto(`${base}/console/`);
  await agent.getByTestId('login-email').fill('agent@example.com');
  await agent.getByTestId('login-password').fill('agent-password');
  await agent.getByTestId('login-submit').click();
  await agent.getByTestId('conv-item').first().click({ timeout: 15_000 });
  await agent.locator('[data-testid="thread-message"][data-direction="inbound"]', { hasText: 'Hello from the browser' }).waitFor();
  await agent.getByTestId('reply-input').fill('Hi! An agent here.');
  await agent.getByTestId('reply-send').click();

  const answer = visitor.locator('[data-testid="kefu-message"][data-direction="outbound"]', { hasText: 'Hi! An agent here.' });
  await answer.waitFor({ timeout: 15_000 });
  assert.equal(await answer.count(), 1, 'the answer appears once in the widget');

  // The agent attaches a file; the visitor gets a link that downloads exactly those bytes.
  await agent.getByTestId('reply-file-input').setInputFiles({
    name: 'order-1234.txt', mimeType: 'text/plain', buffer: Buffer.from('Order 1234: shipped'),
  });
  await agent.locator('[data-testid="reply-file"][data-state="ready"]').waitFor({ timeout: 15_000 });
  await agent.getByTestId('reply-send').click();
  const link = visitor.locator('[data-testid="kefu-message"][data-direction="outbound"] a.att', { hasText: 'order-1234.txt' });
  await link.waitFor({ timeout: 15_000 });
  const href = await link.getAttribute('href');
  assert.match(href, /^http:\/\/127\.0\.0\.1:\d+\/files\/\d+\/[A-Za-z0-9]{32}$/);
  const res = await fetch(href);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'Order 1234: shipped');
  assert.deepEqual(cspViolations, [], 'the security policy blocks nothing the pages use');
});
