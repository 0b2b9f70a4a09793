// The contact panel beside the thread: a custom attribute defined on the settings page, the
// contact's name and attributes edited in the panel (they survive a reload; a bad value is
// refused next to its field), the contact's previous conversations opened from the panel, two
// contacts merged from the panel (the other one found by search) after a confirmation, and the
// panel in zh-CN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, openSettings, fieldError, assertNoEnglish, eventually } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';

let k;
let admin;
let ios;
let android;
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

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  ios = (await admin.call('POST', '/inboxes', { name: 'iOS app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  android = (await admin.call('POST', '/inboxes', { name: 'Android app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(ios.id && android.id);
  // Alice wrote once, was helped, and writes again: two conversations of one contact.
  conv.first = await customer(ios, 'alice', 'a-1', 'Where is my parcel?');
  assert.equal((await admin.call('POST', `/conversations/${conv.first}/resolve`)).status, 200);
  conv.second = await customer(ios, 'alice', 'a-2', 'Me again');
  assert.notEqual(conv.second, conv.first);
  // The same person on the Android app, not yet known to be her.
  conv.android = await customer(android, 'alice-android', 'b-1', 'Hello from my phone');
  contact.alice = (await admin.call('GET', `/conversations/${conv.second}`)).body.contact.id;
  contact.android = (await admin.call('GET', `/conversations/${conv.android}`)).body.contact.id;
  const vip = await admin.call('POST', '/attribute-definitions', { key: 'vip_level', label: 'VIP level', type: 'number' });
  assert.equal(vip.status, 201, JSON.stringify(vip.body));
});
after(async () => { await k?.stop(); });

const panel = (page) => page.getByTestId('contact-panel');

test('a list attribute is defined on the settings page', async () => {
  const page = await k.signedInPage('en');
  await openSettings(page, 'attributes');
  await page.getByTestId('attribute-key').fill('plan');
  await page.getByTestId('attribute-label').fill('Plan');
  await page.getByTestId('attribute-kind').selectOption('list');
  await page.getByTestId('attribute-options').fill('free\npro\nenterprise');
  await page.getByTestId('attribute-create').click();
  const row = page.locator('[data-testid="attribute-row"][data-key="plan"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('attribute-row-kind').textContent(), 'List');

  // A key that is not snake_case is refused next to its field.
  await page.getByTestId('attribute-key').fill('Bad Key');
  await page.getByTestId('attribute-label').fill('Bad');
  await page.getByTestId('attribute-kind').selectOption('text');
  await page.getByTestId('attribute-create').click();
  await fieldError(page, 'key').waitFor();
  assert.equal((await admin.call('GET', '/attribute-definitions')).body.items.length, 2);
  await page.context().close();
});

test('the name and custom attributes are edited in the panel and survive a reload', async () => {
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/c/${conv.second}`);
  await panel(page).getByTestId('contact-form').waitFor();
  const ids = await panel(page).getByTestId('contact-identity').allTextContents();
  assert.equal(ids.length, 1);
  assert.match(ids[0], /iOS app.*alice/);

  await panel(page).getByTestId('contact-name').fill('Alice Zhang');
  await panel(page).getByTestId('contact-attr-vip_level').fill('5');
  await panel(page).getByTestId('contact-attr-plan').selectOption('pro');
  await panel(page).getByTestId('contact-save').click();
  await eventually(async () => (await admin.call('GET', `/contacts/${contact.alice}`)).body.name === 'Alice Zhang', 'the name saved');
  const saved = (await admin.call('GET', `/contacts/${contact.alice}`)).body;
  assert.deepEqual(saved.attributes, { vip_level: 5, plan: 'pro' });

  await page.reload();
  await panel(page).getByTestId('contact-form').waitFor();
  assert.equal(await panel(page).getByTestId('contact-name').inputValue(), 'Alice Zhang');
  assert.equal(await panel(page).getByTestId('contact-attr-vip_level').inputValue(), '5');
  assert.equal(await panel(page).getByTestId('contact-attr-plan').inputValue(), 'pro');

  // A bad email is refused next to its field; nothing is saved.
  await panel(page).getByTestId('contact-email').fill('not-an-address');
  await panel(page).getByTestId('contact-save').click();
  await fieldError(panel(page), 'email').waitFor();
  assert.equal((await admin.call('GET', `/contacts/${contact.alice}`)).body.email, null);
  await page.context().close();
});

test('previous conversations are listed and open from the panel', async () => {
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/c/${conv.second}`);
  const rows = panel(page).getByTestId('contact-conversation');
  await rows.first().waitFor();
  assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))), [String(conv.first)]);
  assert.match(await rows.first().textContent(), /iOS app.*Resolved/);
  await rows.first().getByRole('link').click();
  await page.locator(`[data-testid="thread"][data-id="${conv.first}"]`).waitFor();
  // That thread's panel lists the newer conversation instead.
  await panel(page).locator(`[data-testid="contact-conversation"][data-id="${conv.second}"]`).waitFor();
  await page.context().close();
});

test('another contact is merged into this one after a confirmation', async () => {
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/c/${conv.second}`);
  await panel(page).getByTestId('contact-form').waitFor();
  await panel(page).getByTestId('contact-merge').click();
  // The other contact is found by its channel id; this contact is never offered.
  await page.getByTestId('contact-merge-search').fill('alice');
  const result = page.locator(`[data-testid="contact-merge-result"][data-id="${contact.android}"]`);
  await result.waitFor();
  assert.equal(await page.locator(`[data-testid="contact-merge-result"][data-id="${contact.alice}"]`).count(), 0);
  await page.getByTestId('contact-merge-search').fill('nobody-by-this-name');
  await page.getByTestId('contact-merge-none').waitFor();
  await page.getByTestId('contact-merge-search').fill('alice-andr');
  await result.waitFor();
  await result.click();
  const confirm = page.getByTestId('confirm-dialog');
  await confirm.waitFor();
  assert.match(await confirm.textContent(), /Merge .* into Alice Zhang\?/);
  await confirm.getByTestId('confirm-yes').click();

  await eventually(async () => (await panel(page).getByTestId('contact-identity').count()) === 2, 'both identities shown');
  const ids = await panel(page).getByTestId('contact-identity').allTextContents();
  assert.ok(ids.some((t) => /Android app.*alice-android/.test(t)), ids.join(' | '));
  await panel(page).locator(`[data-testid="contact-conversation"][data-id="${conv.android}"]`).waitFor();
  const gone = (await admin.call('GET', `/contacts/${contact.android}`)).body;
  assert.equal(gone.merged_into_id, contact.alice);
  await page.context().close();
});

test('the panel speaks Chinese', async () => {
  const page = await k.signedInPage('zh-CN');
  await page.goto(`${k.base}/console/#/c/${conv.second}`);
  await panel(page).getByTestId('contact-form').waitFor();
  const text = await panel(page).textContent();
  for (const zh of ['联系人', '渠道', '资料', '姓名', '属性', '以往会话', '保存联系人', '与其他联系人合并']) {
    assert.ok(text.includes(zh), `${zh} in ${text}`);
  }
  const me = (await admin.call('GET', '/profile')).body;
  await assertNoEnglish(page, 'contact panel', [me.name, me.email, 'Alice Zhang', 'VIP level', 'Plan', 'iOS app', 'Android app', 'alice-android', 'alice',
    'Where is my parcel?', 'Me again', 'Hello from my phone', 'enterprise', 'free', 'pro']);
  await page.context().close();
});
