// "Send notification" on the contacts page: a notification sent through the channel chosen in
// the form lands in the contact's conversation as a system message, the form shows where; an
// empty text and a contact nobody can reach any more are refused with a sentence; and the
// form in zh-CN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, assertNoEnglish, eventually } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';

let k;
let admin;
let ios;
/** Conversation ids. */
const conv = {};
/** Contact ids. */
const contact = {};

/** A customer message through an app inbox's API; resolves to the conversation id. */
async function customer(inbox, externalId, clientId, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update(externalId).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: externalId, user_hash, client_id: clientId, text }),
  });
  const body = await res.json();
  assert.ok(res.ok, JSON.stringify(body));
  return body.conversation_id;
}

/** An app inbox. */
async function appInbox(name) {
  const r = await admin.call('POST', '/inboxes', { name, channel: { type: 'app_push', app_secret: APP_SECRET } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  ios = await appInbox('iOS app');
  conv.alice = await customer(ios, 'alice', 'a-1', 'Where is my parcel?');
  contact.alice = (await admin.call('GET', `/conversations/${conv.alice}`)).body.contact.id;
});
after(async () => { await k?.stop(); });

const form = (page) => page.getByTestId('contact-notify');

/** The system messages of a conversation. */
async function systemMessages(id) {
  const r = await admin.call('GET', `/conversations/${id}/messages`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.items.filter((m) => m.sender.type === 'system');
}

/** A contact whose only inbox is deleted once the page shows them. */
async function stranded(name) {
  const inbox = await appInbox(name);
  const id = await customer(inbox, `${name}-user`, 's-1', 'Hello');
  return { inbox, contact: (await admin.call('GET', `/conversations/${id}`)).body.contact.id };
}

test('a notification is sent through the chosen channel and the form says where it went', async () => {
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/contacts/${contact.alice}`);
  await form(page).waitFor();
  assert.equal(await form(page).getByRole('heading').textContent(), 'Send notification');
  // "Best" and the contact's one channel type.
  const channel = form(page).getByTestId('notify-channel');
  await eventually(async () => (await channel.locator('option').count()) === 2, 'the channel options');
  assert.deepEqual(await channel.locator('option').allTextContents(), ['Best (the one they used last)', 'App']);

  await form(page).getByTestId('notify-text').fill('Your parcel has shipped');
  await channel.selectOption('app_push');
  await form(page).getByTestId('notify-send').click();
  const result = form(page).getByTestId('notify-result');
  await result.waitFor();
  assert.match(await result.textContent(), /Notification queued for delivery\. Open conversation #\d+/);
  const href = await result.getByTestId('notify-conversation').getAttribute('href');
  assert.equal(href, `#/c/${conv.alice}`);
  assert.equal(await form(page).getByTestId('notify-text').inputValue(), '', 'the text is cleared');
  let sys = await systemMessages(conv.alice);
  assert.deepEqual(sys.map((m) => m.content.text), ['Your parcel has shipped']);
  assert.equal(sys[0].delivery.channel, 'app_push');

  // A second notification is a new one (a new idempotency key), through the best channel.
  await form(page).getByTestId('notify-text').fill('It arrives tomorrow');
  await channel.selectOption('best');
  await form(page).getByTestId('notify-send').click();
  await eventually(async () => (await systemMessages(conv.alice)).length === 2, 'the second notification');
  sys = await systemMessages(conv.alice);
  assert.deepEqual(sys.map((m) => m.content.text), ['Your parcel has shipped', 'It arrives tomorrow']);

  // The link opens the conversation, where the notification shows.
  await result.getByTestId('notify-conversation').click();
  await page.waitForURL(new RegExp(`#/c/${conv.alice}$`));
  await page.getByText('It arrives tomorrow').first().waitFor();
  await page.context().close();
});

test('an empty text and an unreachable contact are refused with a sentence', async () => {
  const lost = await stranded('Old app');
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/contacts/${lost.contact}`);
  await form(page).waitFor();
  await form(page).getByTestId('notify-send').click();
  assert.equal(await form(page).getByTestId('notify-error').textContent(), 'Write the message first.');

  assert.equal((await admin.call('DELETE', `/inboxes/${lost.inbox.id}`)).status, 204);
  await form(page).getByTestId('notify-text').fill('Anyone there?');
  await form(page).getByTestId('notify-send').click();
  await eventually(async () => /cannot be reached/.test((await form(page).getByTestId('notify-error').textContent().catch(() => '')) || ''),
    'the refusal');
  assert.equal(await form(page).getByTestId('notify-result').count(), 0);
  await page.context().close();
});

test('the form speaks Chinese', async () => {
  const lost = await stranded('Legacy app');
  const page = await k.signedInPage('zh-CN');
  await page.goto(`${k.base}/console/#/contacts/${contact.alice}`);
  await form(page).waitFor();
  const channel = form(page).getByTestId('notify-channel');
  await eventually(async () => (await channel.locator('option').count()) === 2, 'the channel options');
  const text = await form(page).textContent();
  for (const zh of ['发送通知', '消息', '渠道', '最佳（客户最近使用的渠道）']) {
    assert.ok(text.includes(zh), `${zh} in ${text}`);
  }
  await form(page).getByTestId('notify-send').click();
  assert.equal(await form(page).getByTestId('notify-error').textContent(), '请先填写消息内容。');
  await form(page).getByTestId('notify-text').fill('您的包裹已发货');
  await form(page).getByTestId('notify-send').click();
  await form(page).getByTestId('notify-result').waitFor();
  assert.match(await form(page).getByTestId('notify-result').textContent(), /通知已进入发送队列。 打开会话 #\d+/);
  const me = (await admin.call('GET', '/profile')).body;
  await assertNoEnglish(page, 'contacts page with the notification form', [me.name, me.email, 'iOS app', 'alice',
    'Where is my parcel?', 'Your parcel has shipped', 'It arrives tomorrow', 'Old app', 'Old app-user', 'Legacy app', 'Legacy app-user']);

  // A server refusal, in Chinese.
  await page.goto(`${k.base}/console/#/contacts/${lost.contact}`);
  await eventually(async () => (await channel.locator('option').count()) === 2, 'the other contact\'s options');
  assert.equal((await admin.call('DELETE', `/inboxes/${lost.inbox.id}`)).status, 204);
  await form(page).getByTestId('notify-text').fill('在吗？');
  await form(page).getByTestId('notify-send').click();
  await eventually(async () => ((await form(page).getByTestId('notify-error').textContent().catch(() => '')) || '').includes('无法通过该渠道联系此联系人'),
    'the refusal in Chinese');
  await page.context().close();
});
