// Channel fallback in the console: an admin turns it on in the app inbox's settings (English
// and zh-CN); a reply to an app user with no device then fails and reaches the same customer
// in the web chat, and both threads say so, in the agent's language.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, openRoute, eventually, shot } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';

let k;
let admin;
let app;
let web;

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  const r = await admin.call('POST', '/inboxes', { name: 'iOS app', channel: { type: 'app_push', app_secret: APP_SECRET } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  app = r.body;
  web = (await admin.call('GET', '/inboxes')).body.items.find((i) => i.channel.type === 'web_chat');
});
after(async () => { await k?.stop(); });

test("the app inbox's settings turn channel fallback on, in order", async () => {
  const page = await k.newPage({ height: 1800 });
  await k.login(page);
  await openRoute(page, `inboxes/${app.id}`, 'inbox-fallback');
  const card = page.getByTestId('inbox-fallback');
  assert.equal(await card.getByTestId('fallback-enabled').isChecked(), false);
  // The inbox's own type is not offered; the others are, by name.
  const options = await card.getByTestId('fallback-order-0').locator('option').allTextContents();
  assert.ok(options.includes('Web chat') && options.includes('Email'), options.join());
  assert.ok(!options.includes('App'), options.join());
  await card.getByTestId('fallback-enabled').check();
  await card.getByTestId('fallback-order-0').selectOption('web_chat');
  await card.getByTestId('fallback-order-1').selectOption('email');
  await card.getByTestId('fallback-save').click();
  await page.locator('.toast').filter({ hasText: 'Channel fallback saved.' }).waitFor();
  const saved = (await admin.call('GET', `/inboxes/${app.id}`)).body;
  assert.deepEqual(saved.fallback, { enabled: true, order: ['web_chat', 'email'] });
  await shot(page, 'inbox-fallback');
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 1800 });
  await k.login(zh);
  await openRoute(zh, `inboxes/${app.id}`, 'inbox-fallback');
  await zh.getByTestId('inbox-fallback').getByText('渠道兜底', { exact: true }).waitFor();
  assert.equal(await zh.getByTestId('fallback-save').textContent(), '保存兜底设置');
  assert.equal(await zh.getByTestId('fallback-enabled').isChecked(), true);
  assert.equal(await zh.getByTestId('fallback-order-0').inputValue(), 'web_chat');
  await zh.context().close();
});

test('a reply the app cannot deliver reaches the customer in the web chat, and both threads say so', async () => {
  // The customer chats on the website...
  const visitor = await k.newPage();
  await visitor.goto(`${k.base}/`);
  await visitor.getByTestId('kefu-launcher').click();
  await visitor.getByTestId('kefu-input').fill('Is my refund through?');
  await visitor.getByTestId('kefu-send').click();
  const webConv = await eventually(async () => {
    const list = (await admin.call('GET', `/conversations?inbox_id=${web.id}&limit=50`)).body.items || [];
    return list.find((c) => c.last_message && c.last_message.text === 'Is my refund through?')?.id;
  }, 'the web chat conversation');
  // ...and in the app, which has no device registered; both are one contact.
  const user_hash = createHmac('sha256', APP_SECRET).update('alice').digest('hex');
  const res = await fetch(`${k.base}/channels/app/${app.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: 'alice', user_hash, client_id: 'a-1', text: 'Refund?' }),
  });
  const posted = await res.text();
  assert.ok(res.ok, posted);
  const appConv = JSON.parse(posted).conversation_id;
  const appContact = (await admin.call('GET', `/conversations/${appConv}`)).body.contact.id;
  const webContact = (await admin.call('GET', `/conversations/${webConv}`)).body.contact.id;
  const merged = await admin.call('POST', `/contacts/${appContact}/merge`, { other_id: webContact });
  assert.equal(merged.status, 200, JSON.stringify(merged.body));

  const sent = await admin.call('POST', `/conversations/${appConv}/messages`, { text: 'Yes, it left today' });
  assert.ok(sent.status < 300, JSON.stringify(sent.body));
  const failed = await eventually(async () => {
    const items = (await admin.call('GET', `/conversations/${appConv}/messages`)).body.items;
    return items.find((m) => m.id === sent.body.id && m.delivery?.fallback_to);
  }, 'the failed reply to point at its copy');
  assert.equal(failed.delivery.status, 'failed');
  assert.equal(failed.delivery.fallback_to.channel, 'web_chat');
  // The visitor sees the reply in the widget.
  await visitor.locator('[data-testid="kefu-message"]').filter({ hasText: 'Yes, it left today' }).waitFor({ timeout: 15_000 });

  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/c/${appConv}`);
  const original = page.locator(`[data-testid="thread-message"][data-id="${failed.id}"]`);
  const note = original.getByTestId('delivery-fallback');
  await note.waitFor();
  assert.match(await note.textContent(), /Sent by Web chat instead/);
  assert.equal(await note.getByTestId('fallback-copy').getAttribute('href'), `#/c/${webConv}`);
  await shot(page, 'thread-fallback-original');
  await note.getByTestId('fallback-copy').click();
  const copy = page.locator('[data-testid="thread-message"][data-direction="outbound"]').filter({ hasText: 'Yes, it left today' });
  const copyNote = copy.getByTestId('delivery-fallback');
  await copyNote.waitFor();
  assert.match(await copyNote.textContent(), /Sent by Web chat instead: no App device/);
  await page.context().close();

  const zh = await k.signedInPage('zh-CN');
  await zh.goto(`${k.base}/console/#/c/${webConv}`);
  const zhNote = zh.locator('[data-testid="thread-message"][data-direction="outbound"]').getByTestId('delivery-fallback');
  await zhNote.waitFor();
  assert.match(await zhNote.textContent(), /^已改用网页聊天发送：客户没有App设备/);
  await zh.context().close();
  await visitor.context().close();
});
