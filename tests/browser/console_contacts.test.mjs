// The contacts page: reached from the top bar, it lists every contact newest first, finds them
// by name, email, phone or channel id in Chinese and English, opens one with their channels,
// details and every conversation (which open the thread), is reached from a thread's contact
// panel, shows an agent only the contacts of their inboxes, and speaks Chinese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, assertNoEnglish, eventually } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';

let k;
let admin;
let shop;
let other;
/** Conversation ids and contact ids. */
const conv = {};
const contact = {};

/** A customer message through an app inbox's API; resolves to the conversation id. */
async function customer(inbox, externalId, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update(externalId).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: externalId, user_hash, client_id: `${externalId}-1`, text }),
  });
  const body = await res.json();
  assert.ok(res.ok, JSON.stringify(body));
  return body.conversation_id;
}

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  shop = (await admin.call('POST', '/inboxes', { name: 'Shop app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  other = (await admin.call('POST', '/inboxes', { name: 'Partner app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(shop.id && other.id);
  for (const [key, inbox, id, text] of [
    ['wang', shop, 'u-wang', '我的退款什么时候到？'],
    ['lee', shop, 'u-lee', 'Where is my parcel?'],
    ['partner', other, 'u-partner', 'A partner question'],
  ]) {
    conv[key] = await customer(inbox, id, text);
    contact[key] = (await admin.call('GET', `/conversations/${conv[key]}`)).body.contact.id;
  }
  for (const [key, body] of [
    ['wang', { name: '王小明', phone: '+86 138 0013 8000' }],
    ['lee', { name: 'Ann Lee', email: 'ann.lee@example.com' }],
  ]) {
    const res = await admin.call('PATCH', `/contacts/${contact[key]}`, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
});
after(async () => { await k?.stop(); });

const rows = (page) => page.getByTestId('contact-row');
const rowIds = (page) => rows(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));

test('contacts are listed newest first and found by any field', async () => {
  const page = await k.signedInPage('en');
  await page.getByTestId('nav-contacts').click();
  await page.getByTestId('contacts-view').waitFor();
  assert.equal(await page.getByTestId('nav-contacts').getAttribute('aria-current'), 'page');
  await eventually(async () => (await rows(page).count()) === 3, 'three contacts listed');
  assert.deepEqual(await rowIds(page), [contact.partner, contact.lee, contact.wang].map(String));
  assert.match(await rows(page).nth(1).textContent(), /Ann Lee.*ann\.lee@example\.com.*u-lee/);

  const search = page.getByTestId('contacts-search');
  for (const [q, want] of [['小明', contact.wang], ['ANN.LEE', contact.lee], ['0013', contact.wang], ['u-part', contact.partner]]) {
    await search.fill(q);
    await eventually(async () => JSON.stringify(await rowIds(page)) === JSON.stringify([String(want)]), `"${q}" finds one contact`);
  }
  await search.fill('nobody-here');
  await page.getByTestId('contacts-empty').waitFor();
  assert.match(await page.getByTestId('contacts-empty').textContent(), /No contact matches “nobody-here”/);
  await search.press('Escape');
  await eventually(async () => (await rows(page).count()) === 3, 'Escape clears the search');
  await page.context().close();
});

test('a contact opens with their channels and conversations, which open the thread', async () => {
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/contacts`);
  await page.locator(`[data-testid="contact-row"][data-id="${contact.wang}"]`).click();
  const detail = page.getByTestId('contacts-detail');
  await detail.getByTestId('contact-form').waitFor();
  assert.equal(await detail.getByTestId('contact-name').inputValue(), '王小明');
  assert.match(await detail.getByTestId('contact-identity').first().textContent(), /Shop app.*u-wang/);
  const c = detail.locator(`[data-testid="contact-conversation"][data-id="${conv.wang}"]`);
  await c.waitFor();
  // A rename in the panel shows in the list at once.
  await detail.getByTestId('contact-name').fill('王小明 (VIP)');
  await detail.getByTestId('contact-save').click();
  await eventually(async () => (await page.locator(`[data-testid="contact-row"][data-id="${contact.wang}"]`).textContent()).includes('王小明 (VIP)'), 'the list shows the new name');
  await c.getByRole('link').click();
  await page.locator(`[data-testid="thread"][data-id="${conv.wang}"]`).waitFor();

  // And back: the thread's contact panel links to the contact's page.
  await page.getByTestId('contact-panel').getByTestId('contact-open-page').click();
  await page.getByTestId('contacts-view').waitFor();
  assert.match(page.url(), new RegExp(`#/contacts/${contact.wang}$`));
  await page.context().close();
});

test('an agent sees only the contacts of their inboxes', async () => {
  const created = await admin.call('POST', '/agents', { email: 'mei@example.com', name: 'Mei', password: 'agent-password-1', role: 'agent' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const members = (await admin.call('GET', `/inboxes/${shop.id}/members`)).body;
  members.agent_ids.push(created.body.id);
  assert.equal((await admin.call('PUT', `/inboxes/${shop.id}/members`, members)).status, 200);
  const page = await k.newPage();
  await k.login(page, 'mei@example.com', 'agent-password-1');
  await page.goto(`${k.base}/console/#/contacts`);
  await eventually(async () => (await rows(page).count()) === 2, 'two contacts listed');
  assert.deepEqual(await rowIds(page), [contact.lee, contact.wang].map(String));
  await page.context().close();
});

test('the contacts page speaks Chinese', async () => {
  const page = await k.signedInPage('zh-CN');
  await page.goto(`${k.base}/console/#/contacts/${contact.lee}`);
  await page.getByTestId('contacts-detail').getByTestId('contact-form').waitFor();
  const text = await page.getByTestId('contacts-view').textContent();
  for (const zh of ['联系人', '渠道', '资料', '以往会话']) assert.ok(text.includes(zh), `${zh} in ${text}`);
  assert.equal(await page.getByTestId('contacts-search').getAttribute('placeholder'), '姓名、邮箱、电话、渠道 ID 或编号');
  const me = (await admin.call('GET', '/profile')).body;
  await assertNoEnglish(page, 'contacts page', [me.name, me.email, '王小明 (VIP)', 'Ann Lee', 'ann.lee@example.com', 'Shop app', 'Partner app',
    'u-wang', 'u-lee', 'u-partner', '+86 138 0013 8000', 'Where is my parcel?', 'A partner question']);
  await page.context().close();
});
