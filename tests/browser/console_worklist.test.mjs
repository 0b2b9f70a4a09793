// The conversation list a support team works from: rows show the channel, the last message,
// the assignee, labels and unread counts from the server (so they survive a reload); the
// filter bar narrows by label and by assignee; saved views; labels are managed in settings
// (English and Chinese) and added or removed from the thread header.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, openSettings, fieldError, eventually } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';

let k;
let admin;
let inbox;
/** Conversation ids by customer. */
const conv = {};
let eve;

/** A customer message through the app channel's API; resolves to the conversation id. */
async function customer(externalId, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update(externalId).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: externalId, user_hash, client_id: `${externalId}-${Date.now()}`, text }),
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
  conv.alice = await customer('alice', 'Where is my refund?');
  conv.bob = await customer('bob', 'Hello there');
  conv.carol = await customer('carol', 'Need help with my order');
  eve = (await admin.call('POST', '/agents', { email: 'eve@example.com', name: 'Eve Agent', password: 'eves-password' })).body;
  const assigned = await admin.call('POST', `/conversations/${conv.bob}/assign`, { agent_id: eve.id });
  assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
  assert.equal((await admin.call('POST', '/labels', { name: 'vip', color: '#d97706' })).status, 201);
  assert.equal((await admin.call('PUT', `/conversations/${conv.alice}/labels`, { labels: ['vip'] })).status, 200);
});
after(async () => { await k?.stop(); });

/** The list row of a conversation. */
const rowOf = (page, id) => page.locator(`[data-testid="conv-item"][data-id="${id}"]`);

/** Signs in and shows the "All open" tab. */
async function openList(lang = 'en') {
  const page = await k.newPage({ lang, height: 900 });
  await k.login(page);
  await page.getByTestId('tab-open').click();
  await rowOf(page, conv.carol).waitFor();
  return page;
}

/** Ids of the rows shown, top to bottom. */
async function shown(page) {
  return (await page.getByTestId('conv-item').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id')))));
}

test('rows show the last message, the assignee, labels and unread counts after a reload', async () => {
  const page = await openList();
  await page.reload();
  await page.getByTestId('tab-open').click();
  const bob = rowOf(page, conv.bob);
  await bob.waitFor();
  assert.equal((await bob.getByTestId('conv-preview').textContent()).trim(), 'Hello there');
  assert.equal(await bob.getByTestId('conv-assignee').textContent(), 'Eve Agent');
  const alice = rowOf(page, conv.alice);
  assert.equal((await alice.getByTestId('conv-preview').textContent()).trim(), 'Where is my refund?');
  assert.equal(await alice.locator('[data-testid="label-chip"][data-name="vip"]').count(), 1);
  assert.equal(await alice.getByTestId('conv-unread').textContent(), '1');
  assert.equal(await alice.getByTestId('conv-channel').getAttribute('data-channel'), 'app_push');
  assert.equal(await alice.getByTestId('conv-waiting').count(), 1, 'the customer is waiting');
  assert.equal(await rowOf(page, conv.carol).getByTestId('conv-assignee').textContent(), 'Unassigned');

  // Opening a conversation reads it: the badge goes, and stays gone after a reload.
  await alice.click();
  await alice.getByTestId('conv-unread').waitFor({ state: 'detached' });
  await eventually(async () => {
    const item = (await admin.call('GET', `/conversations/${conv.alice}`)).body;
    return item.unread_count === 0;
  }, 'the read marker is stored');
  await page.reload();
  await rowOf(page, conv.alice).waitFor();
  assert.equal(await rowOf(page, conv.alice).getByTestId('conv-unread').count(), 0);

  // A new customer message moves the preview and counts as unread where it is not open.
  await page.goto(`${k.base}/console/#/`);
  await customer('carol', 'Are you there?');
  const carol = rowOf(page, conv.carol);
  await carol.getByTestId('conv-preview').filter({ hasText: 'Are you there?' }).waitFor();
  // The row may be patched from the event before the list's own fetch lands: wait for the
  // count the server keeps.
  await carol.getByTestId('conv-unread').filter({ hasText: /^2$/ }).waitFor({ timeout: 10_000 });
  await page.context().close();
});

test('the filter bar narrows the list by label and by assignee; views are built in and saved', async () => {
  const page = await openList();
  await page.getByTestId('filter-label').selectOption('vip');
  await eventually(async () => JSON.stringify(await shown(page)) === JSON.stringify([conv.alice]), 'only the vip conversation');
  await page.getByTestId('filter-clear').click();
  await eventually(async () => (await shown(page)).length === 3, 'every conversation again');

  await page.getByTestId('filter-assignee').selectOption(String(eve.id));
  await eventually(async () => JSON.stringify(await shown(page)) === JSON.stringify([conv.bob]), 'only Eve\'s conversation');
  assert.equal(await rowOf(page, conv.bob).getByTestId('conv-assignee').textContent(), 'Eve Agent');

  // Saved per agent in this browser: a reload keeps it.
  await page.getByTestId('view-save').click();
  await page.getByTestId('view-name').fill('Eve\'s work');
  await page.getByTestId('view-name-save').click();
  await page.reload();
  await page.getByTestId('list-view').locator('option', { hasText: 'Eve\'s work' }).waitFor({ state: 'attached' });
  await page.getByTestId('list-view').selectOption({ label: 'Eve\'s work' });
  await eventually(async () => JSON.stringify(await shown(page)) === JSON.stringify([conv.bob]), 'the saved view');

  await page.getByTestId('list-view').selectOption({ label: 'Unassigned' });
  await eventually(async () => {
    const ids = await shown(page);
    return ids.length === 2 && ids.includes(conv.alice) && ids.includes(conv.carol);
  }, 'the unassigned view');
  // The sort selector reorders: priority, then oldest first.
  await page.getByTestId('list-sort').selectOption('priority');
  await eventually(async () => JSON.stringify(await shown(page)) === JSON.stringify([conv.alice, conv.carol]), 'oldest first at equal priority');
  await page.context().close();
});

test('labels are managed in settings and added or removed from the thread header', async () => {
  const page = await k.signedInPage();
  await openSettings(page, 'labels');
  const form = page.getByTestId('label-create-form');
  await page.getByTestId('label-create').click();
  await fieldError(form, 'name').filter({ hasText: /\S/ }).waitFor();
  await page.getByTestId('label-new-name').fill('refund');
  await page.getByTestId('label-color').fill('#1f883d');
  await page.getByTestId('label-create').click();
  const row = page.locator('[data-testid="label-row"][data-name="refund"]');
  await row.waitFor();
  assert.equal(await row.getByTestId('label-row-color').textContent(), '#1f883d');
  // A taken name is refused next to the field.
  await page.getByTestId('label-new-name').fill('vip');
  await page.getByTestId('label-create').click();
  await fieldError(form, 'name').filter({ hasText: /exists/ }).waitFor();

  await row.getByTestId('label-edit').click();
  await page.getByTestId('label-edit-name').fill('refunds');
  await page.getByTestId('label-edit-save').click();
  await page.locator('[data-testid="label-row"][data-name="refunds"]').waitFor();

  // On the thread header: add, then remove.
  await page.goto(`${k.base}/console/#/c/${conv.carol}`);
  await page.getByTestId('label-add').click();
  await page.locator('[data-testid="label-option"][data-name="refunds"]').check();
  await page.getByTestId('labels-save').click();
  await page.getByTestId('thread-labels').locator('[data-testid="label-chip"][data-name="refunds"]').waitFor();
  await rowOf(page, conv.carol).locator('[data-testid="label-chip"][data-name="refunds"]').waitFor();
  assert.deepEqual((await admin.call('GET', `/conversations/${conv.carol}`)).body.labels, ['refunds']);
  await page.getByTestId('thread-labels').getByTestId('label-remove').click();
  await page.getByTestId('thread-labels').getByTestId('label-chip').waitFor({ state: 'detached' });
  assert.deepEqual((await admin.call('GET', `/conversations/${conv.carol}`)).body.labels, []);

  // Deleting asks first.
  await openSettings(page, 'labels');
  await page.locator('[data-testid="label-row"][data-name="refunds"]').getByTestId('label-delete').click();
  await page.getByTestId('confirm-yes').click();
  await page.locator('[data-testid="label-row"][data-name="refunds"]').waitFor({ state: 'detached' });
  await page.context().close();
});

test('the labels page and the filter bar speak Chinese', async () => {
  const page = await k.signedInPage('zh-CN');
  await openSettings(page, 'labels');
  assert.equal(await page.locator('.page-title').textContent(), '标签');
  assert.equal(await page.getByTestId('label-create').textContent(), '创建标签');
  await page.getByTestId('label-new-name').fill('投诉');
  await page.getByTestId('label-create').click();
  await page.locator('[data-testid="label-row"][data-name="投诉"]').waitFor();
  await page.getByTestId('label-create').click();
  await fieldError(page.getByTestId('label-create-form'), 'name').filter({ hasText: /\S/ }).waitFor();

  await page.goto(`${k.base}/console/#/`);
  await page.getByTestId('tab-open').click();
  await rowOf(page, conv.bob).waitFor();
  assert.equal(await page.getByTestId('list-sort').locator('option:checked').textContent(), '最近活动');
  assert.equal(await page.getByTestId('filter-label').locator('option').first().textContent(), '任意标签');
  assert.equal(await rowOf(page, conv.carol).getByTestId('conv-assignee').textContent(), '未分配');
  await page.getByTestId('list-view').selectOption({ label: '未分配' });
  await eventually(async () => !(await shown(page)).includes(conv.bob), 'the unassigned view');
  await page.context().close();
});
