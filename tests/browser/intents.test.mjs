// Intents end to end: the settings page adds an intent (a taken name refused next to its
// field), edits its examples, disables and re-enables it, and reads in zh-CN; a customer's
// first message is then classified and the conversation view shows its intent, in the
// header and on the timeline, in English and Chinese. What is saved is what the API returns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, openSettings, fieldError, assertNoEnglish, eventually, shot } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';

let k;
let admin;

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
});
after(async () => { await k?.stop(); });

const rows = (page) => page.getByTestId('intent-row');

test('intents are added, edited, disabled and deleted, in English and Chinese', async () => {
  const page = await k.newPage({ height: 1200 });
  await k.login(page);
  await openSettings(page, 'intents');
  await page.getByTestId('intents-empty').waitFor();

  const form = page.getByTestId('intent-create-form');
  await page.getByTestId('intent-name').fill('refund');
  await page.getByTestId('intent-label').fill('Refund');
  await page.getByTestId('intent-examples').fill('我要退款\n申请退款\nI want a refund');
  await page.getByTestId('intent-create').click();
  await rows(page).first().waitFor();
  assert.equal(await rows(page).first().getByTestId('intent-row-label').textContent(), 'Refund');
  assert.equal(await rows(page).first().getByTestId('intent-row-name').textContent(), 'refund');
  assert.equal(await rows(page).first().getByTestId('intent-row-examples').textContent(),
    '3 examples · 我要退款 · 申请退款 · I want a refund');

  // A taken name is refused next to the name field; what was typed stays.
  await page.getByTestId('intent-name').fill('refund');
  await page.getByTestId('intent-examples').fill('money back');
  await page.getByTestId('intent-create').click();
  await fieldError(form, 'name').waitFor();
  assert.equal(await page.getByTestId('intent-examples').inputValue(), 'money back');
  assert.equal(await rows(page).count(), 1);
  await shot(page, 'intents-settings');

  // Edit the examples: the name is fixed.
  await rows(page).first().getByTestId('intent-edit').click();
  const dialog = page.getByTestId('intent-edit-dialog');
  assert.equal(await dialog.getByTestId('intent-name').isDisabled(), true);
  await dialog.getByTestId('intent-examples').fill('我要退款\nhow do I get my money back');
  await dialog.getByTestId('intent-edit-save').click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByText('2 examples · 我要退款 · how do I get my money back').waitFor();

  // Disable, then enable again.
  await rows(page).first().getByTestId('intent-toggle').click();
  await rows(page).first().getByTestId('intent-row-disabled').waitFor();
  let stored = (await admin.call('GET', '/intents')).body.items.map((i) => [i.name, i.label, i.examples, i.enabled]);
  assert.deepEqual(stored, [['refund', 'Refund', ['我要退款', 'how do I get my money back'], false]]);
  await rows(page).first().getByTestId('intent-toggle').click();
  await rows(page).first().getByTestId('intent-row-disabled').waitFor({ state: 'detached' });
  stored = (await admin.call('GET', '/intents')).body.items.map((i) => i.enabled);
  assert.deepEqual(stored, [true]);

  // The same page in Chinese.
  const zh = await k.newPage({ lang: 'zh-CN', height: 1200 });
  await k.login(zh);
  await openSettings(zh, 'intents');
  await rows(zh).first().waitFor();
  assert.equal(await zh.getByTestId('nav-intents').textContent(), '意图');
  assert.equal(await zh.getByTestId('intent-create').textContent(), '添加意图');
  assert.equal(await rows(zh).first().getByTestId('intent-toggle').textContent(), '停用');
  await assertNoEnglish(zh, 'intents', ['Refund', 'refund', 'how do I get my money back', 'Kefu', 'Admin', 'admin@example.com']);
  await zh.context().close();

  // Delete.
  await rows(page).first().getByTestId('intent-delete').click();
  await page.getByTestId('confirm-yes').click();
  await page.getByTestId('intents-empty').waitFor();
  assert.deepEqual((await admin.call('GET', '/intents')).body.items, []);
  await page.context().close();
});

test('the conversation view shows the intent detected in the first message', async () => {
  const made = await admin.call('POST', '/intents', { name: 'invoice', label: 'Invoice', examples: ['开发票', 'I need an invoice', 'send me a receipt'] });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const inbox = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(inbox.id, JSON.stringify(inbox));
  const user_hash = createHmac('sha256', APP_SECRET).update('bob').digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: 'bob', user_hash, client_id: 'bob-1', text: 'Hi, I need an invoice for my order' }),
  });
  assert.ok(res.ok, String(res.status));
  const conv = (await res.json()).conversation_id;
  await eventually(async () => (await admin.call('GET', `/conversations/${conv}`)).body.intent === 'invoice',
    'the intent detected');

  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/c/${conv}`);
  // The intent's label, not its name.
  await page.getByTestId('conv-intent').filter({ hasText: /^Intent: Invoice$/ }).waitFor();
  const line = page.locator('[data-testid="activity-line"][data-kind="intent_detected"] .activity-text');
  await line.filter({ hasText: /^Intent detected: Invoice$/ }).waitFor();
  await page.context().close();

  const zh = await k.signedInPage('zh-CN');
  await zh.goto(`${k.base}/console/#/c/${conv}`);
  await zh.getByTestId('conv-intent').filter({ hasText: /^意图：Invoice$/ }).waitFor();
  await zh.locator('[data-testid="activity-line"][data-kind="intent_detected"] .activity-text')
    .filter({ hasText: /^识别到意图：Invoice$/ }).waitFor();
  await zh.context().close();
});
