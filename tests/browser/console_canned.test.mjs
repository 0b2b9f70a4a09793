// Canned responses end to end: managed on the settings page (created in English, a bad
// placeholder refused next to its field, edited, deleted, shown in zh-CN; an agent is offered
// only their own scope), then used from the reply box: `/` opens the picker, typing filters it
// by shortcut or words, arrows and Enter (or a click) insert the response with the contact's
// name — or the fallback — filled in by the server, Escape closes it, and the reply is sent
// and shown in the thread. A response saved with a file attaches it to the reply.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, openSettings, fieldError, assertNoEnglish, eventually, shot } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';
const GREETING = 'Hello {{contact.name | there}}, how can I help?';

let k;
let admin;
let inbox;
/** Conversation ids by customer. */
const conv = {};

/** A customer message through the app channel's API; resolves to the conversation id. */
async function customer(externalId, text, name) {
  const user_hash = createHmac('sha256', APP_SECRET).update(externalId).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: externalId, user_hash, client_id: `${externalId}-1`, text, ...(name ? { name } : {}) }),
  });
  const body = await res.json();
  assert.ok(res.ok, JSON.stringify(body));
  return body.conversation_id;
}

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  inbox = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(inbox.id, JSON.stringify(inbox));
  conv.alice = await customer('alice', 'Where is my parcel?', 'Alice Zhang');
  conv.bob = await customer('bob', 'Hi');
});
after(async () => { await k?.stop(); });

/** The settings row of the canned response `/shortcut`. */
const rowOf = (page, shortcut) => page.locator(`[data-testid="canned-row"][data-shortcut="${shortcut}"]`);

/** Fills and submits the create form. */
async function createOnPage(page, { shortcut, content, scope }) {
  await page.getByTestId('canned-new-shortcut').fill(shortcut);
  if (scope) await page.getByTestId('canned-new-scope').selectOption(scope);
  await page.getByTestId('canned-new-content').fill(content);
  await page.getByTestId('canned-create').click();
}

test('canned responses are managed on the settings page and shown in zh-CN', async () => {
  const page = await k.newPage({ height: 900 });
  await k.login(page);
  await openSettings(page, 'canned');
  await page.getByTestId('canned-empty').waitFor();

  await createOnPage(page, { shortcut: '/Greet', content: GREETING, scope: 'global' });
  const greet = rowOf(page, 'greet');
  await greet.waitFor();
  assert.equal(await greet.getByTestId('canned-row-content').textContent(), GREETING);
  assert.equal(await greet.getByTestId('canned-row-scope').getAttribute('data-scope'), 'global');
  assert.equal(await greet.getByTestId('canned-row-scope').textContent(), 'Everyone');

  // A misspelt variable is refused next to the text, naming it; the form keeps what was typed.
  await createOnPage(page, { shortcut: 'bad', content: 'Hi {{contact.nmae}}', scope: 'personal' });
  const err = fieldError(page.getByTestId('canned-create-form'), 'content');
  await err.filter({ hasText: 'contact.nmae' }).waitFor();
  assert.equal(await page.getByTestId('canned-new-content').inputValue(), 'Hi {{contact.nmae}}');
  assert.equal(await rowOf(page, 'bad').count(), 0);

  await page.getByTestId('canned-new-content').fill('Thanks, {{agent.name}}');
  await page.getByTestId('canned-create').click();
  await rowOf(page, 'bad').waitFor();
  assert.equal(await rowOf(page, 'bad').getByTestId('canned-row-scope').getAttribute('data-scope'), 'personal');

  await shot(page, 'canned-settings');
  // Edit: a new shortcut and text.
  await rowOf(page, 'bad').getByTestId('canned-edit').click();
  await page.getByTestId('canned-edit-shortcut').fill('thanks');
  await page.getByTestId('canned-edit-content').fill('Thanks! {{agent.name}}');
  await page.getByTestId('canned-edit-save').click();
  await rowOf(page, 'thanks').getByTestId('canned-row-content').filter({ hasText: 'Thanks! {{agent.name}}' }).waitFor();
  await rowOf(page, 'bad').waitFor({ state: 'detached' });

  // Delete.
  await createOnPage(page, { shortcut: 'tmp', content: 'Temporary' });
  await rowOf(page, 'tmp').getByTestId('canned-delete').click();
  await page.getByTestId('confirm-yes').click();
  await rowOf(page, 'tmp').waitFor({ state: 'detached' });
  const stored = (await admin.call('GET', '/canned-responses')).body.items.map((r) => [r.shortcut, r.scope, r.content]);
  assert.deepEqual(stored, [['greet', 'global', GREETING], ['thanks', 'personal', 'Thanks! {{agent.name}}']]);
  await page.context().close();

  // The same page in Chinese.
  const zh = await k.newPage({ lang: 'zh-CN', height: 900 });
  await k.login(zh);
  await openSettings(zh, 'canned');
  await rowOf(zh, 'greet').waitFor();
  assert.equal(await zh.getByTestId('nav-canned').textContent(), '快捷回复');
  assert.equal(await rowOf(zh, 'greet').getByTestId('canned-row-scope').textContent(), '所有人');
  assert.equal(await rowOf(zh, 'thanks').getByTestId('canned-row-scope').textContent(), '个人');
  assert.equal(await zh.getByTestId('canned-create').textContent(), '创建快捷回复');
  await shot(zh, 'canned-settings-zh');
  await assertNoEnglish(zh, 'canned responses', [GREETING, 'Thanks! {{agent.name}}', '/greet', '/thanks', 'Kefu', 'Admin', 'admin@example.com']);
  await zh.context().close();
});

test('an agent manages only their own canned responses', async () => {
  await admin.call('POST', '/agents', { email: 'eve@example.com', name: 'Eve', password: 'eves-password', role: 'agent' });
  const page = await k.newPage({ height: 900 });
  await k.login(page, 'eve@example.com', 'eves-password');
  await openSettings(page, 'canned');
  await rowOf(page, 'greet').waitFor();
  assert.equal(await rowOf(page, 'thanks').count(), 0, "the admin's personal response is not shown");
  assert.equal(await rowOf(page, 'greet').getByTestId('canned-edit').count(), 0, 'the global one is read-only');
  const scopes = await page.getByTestId('canned-new-scope').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(scopes, ['personal']);
  await page.context().close();
});

/** Opens the conversation `id` in the "All open" tab. */
async function openConversation(page, id) {
  await page.getByTestId('tab-open').click();
  await page.locator(`[data-testid="conv-item"][data-id="${id}"]`).click();
  await page.locator(`[data-testid="thread"][data-id="${id}"]`).waitFor();
  const input = page.getByTestId('reply-input');
  await input.waitFor();
  return input;
}

test('typing / in the reply box inserts a canned response filled in for the contact', async () => {
  const page = await k.newPage({ height: 900 });
  await k.login(page);
  const input = await openConversation(page, conv.alice);
  const picker = page.getByTestId('canned-picker');
  const options = () => picker.getByTestId('canned-option').evaluateAll((os) => os.map((o) => o.getAttribute('data-shortcut')));

  // A slash lists everything; what matches nothing closes it; arrows move; Escape closes it
  // and keeps the text.
  await input.pressSequentially('/');
  await picker.waitFor();
  assert.deepEqual(await options(), ['greet', 'thanks']);
  await shot(page, 'canned-picker');
  await input.pressSequentially('zzz');
  await picker.waitFor({ state: 'hidden' });
  for (let i = 0; i < 3; i += 1) await input.press('Backspace');
  await picker.waitFor();
  assert.equal(await picker.locator('[aria-selected="true"]').getAttribute('data-shortcut'), 'greet');
  await input.press('ArrowDown');
  assert.equal(await picker.locator('[aria-selected="true"]').getAttribute('data-shortcut'), 'thanks');
  await input.press('Escape');
  await picker.waitFor({ state: 'hidden' });
  assert.equal(await input.inputValue(), '/');

  // Typing narrows by shortcut; Enter inserts it filled in for Alice.
  await input.pressSequentially('gr');
  await eventually(async () => JSON.stringify(await options()) === '["greet"]', 'the picker to show only /greet');
  await input.press('Enter');
  const filled = 'Hello Alice Zhang, how can I help?';
  await eventually(async () => (await input.inputValue()) === filled, `the reply box to read "${filled}"`);
  await picker.waitFor({ state: 'hidden' });

  // Enter again sends it; it shows in the thread once stored.
  await input.press('Enter');
  await page.locator('[data-testid="thread-message"][data-direction="outbound"][data-id]', { hasText: filled }).waitFor();
  const sent = (await admin.call('GET', `/conversations/${conv.alice}/messages`)).body.items.filter((m) => m.direction === 'outbound');
  assert.deepEqual(sent.map((m) => m.content.text), [filled]);

  // Words of the text find it too; a click picks it; a contact without a name gets the fallback.
  const bobInput = await openConversation(page, conv.bob);
  await bobInput.pressSequentially('Hi! /can help');
  await picker.getByTestId('canned-option').first().waitFor();
  assert.deepEqual(await options(), ['greet']);
  await picker.locator('[data-testid="canned-option"][data-shortcut="greet"]').click();
  const fallback = 'Hi! Hello there, how can I help?';
  await eventually(async () => (await bobInput.inputValue()) === fallback, `the reply box to read "${fallback}"`);
  await page.getByTestId('reply-send').click();
  await page.locator('[data-testid="thread-message"][data-direction="outbound"][data-id]', { hasText: fallback }).waitFor();
  await page.context().close();
});

test('a canned response sends the files saved with it', async () => {
  const page = await k.newPage({ height: 900 });
  await k.login(page);
  await openSettings(page, 'canned');
  await page.getByTestId('canned-new-shortcut').fill('prices');
  await page.getByTestId('canned-new-content').fill('Our price list is attached.');
  await page.getByTestId('canned-new-file-input').setInputFiles({ name: 'prices.txt', mimeType: 'text/plain', buffer: Buffer.from('tea 12\ncoffee 15\n') });
  await page.locator('[data-testid="canned-new-file"][data-state="ready"]', { hasText: 'prices.txt' }).waitFor();
  await page.getByTestId('canned-create').click();
  const row = rowOf(page, 'prices');
  await row.getByTestId('canned-row-file').filter({ hasText: 'prices.txt' }).waitFor();
  const saved = (await admin.call('GET', '/canned-responses?q=prices')).body.items[0];
  assert.deepEqual(saved.attachments.map((f) => f.name), ['prices.txt']);

  // Picked in the reply box, its text is filled in and its file waits as a chip; the reply
  // carries it.
  await page.getByTestId('nav-conversations').click();
  const input = await openConversation(page, conv.bob);
  await input.pressSequentially('/prices');
  await page.getByTestId('canned-picker').locator('[data-testid="canned-option"][data-shortcut="prices"]').waitFor();
  await input.press('Enter');
  await eventually(async () => (await input.inputValue()) === 'Our price list is attached.', 'the text inserted');
  await page.locator('[data-testid="reply-file"][data-state="ready"]', { hasText: 'prices.txt' }).waitFor();
  await page.getByTestId('reply-send').click();
  await page.locator('[data-testid="thread-message"][data-direction="outbound"][data-id]', { hasText: 'Our price list is attached.' }).waitFor();
  await eventually(async () => {
    const sent = (await admin.call('GET', `/conversations/${conv.bob}/messages`)).body.items
      .filter((m) => m.direction === 'outbound' && m.content.text === 'Our price list is attached.');
    return sent.length === 1 && sent[0].content.attachments.map((a) => a.name).join() === 'prices.txt';
  }, 'the reply stored with the file');
  await page.context().close();
});
