// A visitor writes through the widget on the demo page; an agent answers from the console in a
// second page; the answer appears in the widget. Runs the real `kefu` binary (KEFU_BIN) on
// SQLite in a temporary folder and Debian's Chromium (CHROMIUM, default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu } from './support/kefu.mjs';

let kefu, browser, base;

before(async () => {
  // Provider stand-ins of future console tests run on loopback.
  kefu = await startKefu({ env: { KEFU_CHANNELS__ALLOW_PRIVATE_TARGETS: 'true' } });
  ({ browser, base } = kefu);
});

// `stop` waits for the server to exit before it removes the data folder: the search index may
// still be writing while the server drains.
after(async () => { await kefu?.stop(); });

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
  await kefu.login(agent);
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
