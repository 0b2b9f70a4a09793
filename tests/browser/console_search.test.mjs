// Searching conversations from the list: a two-character Chinese word and an English word
// each find their conversation with the matched passage highlighted; results page on; the
// filter bar narrows them; opening a result opens its thread; clearing goes back to the tabs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, eventually } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-search-tests-0123';

let k;
let admin;
let inbox;
const conv = {};

/** A customer message through the app channel's API; resolves to the conversation id. */
async function customer(externalId, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update(externalId).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: externalId, user_hash, client_id: `${externalId}-${text.length}`, text }),
  });
  const body = await res.json();
  assert.ok(res.ok, JSON.stringify(body));
  return body.conversation_id;
}

/** Conversation ids the search API finds for `q`, once the index has them. */
async function indexed(q, n) {
  return eventually(async () => {
    const r = await admin.call('GET', `/conversations?q=${encodeURIComponent(q)}&limit=100`);
    return r.status === 200 && r.body.items.length >= n && r.body.items.map((c) => c.id);
  }, `${n} results for ${q}`);
}

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  inbox = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(inbox.id, JSON.stringify(inbox));
  conv.wang = await customer('wang', '我想申请退款，快递一直没到');
  conv.bob = await customer('bob', 'Where is my refund? It has been two weeks.');
  conv.carol = await customer('carol', 'Hello, how do I change my password?');
  for (let i = 0; i < 23; i++) await customer(`buyer${i}`, `Question about invoice number ${1000 + i}`);
  assert.equal((await admin.call('POST', '/labels', { name: 'vip', color: '#d97706' })).status, 201);
  assert.equal((await admin.call('PUT', `/conversations/${conv.bob}/labels`, { labels: ['vip'] })).status, 200);
  await indexed('退款', 1);
  await indexed('refund', 1);
  await indexed('invoice', 23);
});
after(async () => { await k?.stop(); });

/** Signs in (in `lang`) and searches for `q` from the list's box. */
async function searchFor(q, lang = 'en') {
  const page = await k.newPage({ lang, height: 900 });
  await k.login(page);
  await page.getByTestId('search-input').fill(q);
  await page.getByTestId('search-input').press('Enter');
  return page;
}

const resultIds = (page) => page.getByTestId('search-result')
  .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))));

test('an English word finds its conversation, highlighted, and opens its thread', async () => {
  const page = await searchFor('refund');
  const result = page.locator(`[data-testid="search-result"][data-id="${conv.bob}"]`);
  await result.waitFor();
  assert.deepEqual(await resultIds(page), [conv.bob], 'only the conversation that says it');
  assert.equal(await result.getByTestId('search-snippet').locator('mark').first().innerText(), 'refund');
  assert.match(await result.getByTestId('search-snippet').innerText(), /Message · Where is my refund\?/);
  assert.equal(await page.getByTestId('tab-open').isVisible(), false, 'results replace the tabs');

  await result.click();
  await page.waitForURL(new RegExp(`/c/${conv.bob}$`));
  await page.getByTestId('thread-message').filter({ hasText: 'It has been two weeks.' }).waitFor();

  await page.getByTestId('search-input').press('Escape');
  await page.getByTestId('tab-queue').waitFor();
  assert.equal(await page.getByTestId('search-result').count(), 0);
  assert.equal(await page.getByTestId('search-input').inputValue(), '');
  await page.context().close();
});

test('a two-character Chinese word finds its conversation, in the Chinese console', async () => {
  const page = await searchFor('退款', 'zh-CN');
  const result = page.locator(`[data-testid="search-result"][data-id="${conv.wang}"]`);
  await result.waitFor();
  assert.deepEqual(await resultIds(page), [conv.wang]);
  assert.equal(await result.getByTestId('search-snippet').locator('mark').first().innerText(), '退款');
  assert.match(await result.getByTestId('search-snippet').innerText(), /^消息 · /);
  assert.equal(await page.getByTestId('search-summary').innerText(), '找到 1 个会话');
  assert.equal(await page.getByTestId('search-input').getAttribute('placeholder'), '搜索消息、联系人、邮件主题');

  // Typing alone searches too (after a pause), and an unknown word says so.
  await page.getByTestId('search-input').fill('不存在的词语');
  await page.getByTestId('search-summary').filter({ hasText: '没有与“不存在的词语”匹配的内容。' }).waitFor();
  assert.equal(await page.getByTestId('search-result').count(), 0);
  await page.getByTestId('search-clear').click();
  await page.getByTestId('tab-queue').waitFor();
  await page.context().close();
});

test('results page on with "More results", and the filter bar narrows them', async () => {
  const page = await searchFor('invoice');
  await page.getByTestId('search-result').nth(19).waitFor();
  assert.equal(await page.getByTestId('search-result').count(), 20, 'a page of twenty');
  assert.equal(await page.getByTestId('search-summary').innerText(), '20+ conversations found');
  await page.getByTestId('search-more').click();
  await page.getByTestId('search-result').nth(22).waitFor();
  assert.equal(await page.getByTestId('search-result').count(), 23);
  assert.equal(await page.getByTestId('search-more').count(), 0, 'no more pages');
  const ids = await resultIds(page);
  assert.equal(new Set(ids).size, 23, 'no conversation twice');

  // Within the label filter only the labelled conversation matches "refund"; "invoice" none.
  await page.getByTestId('filter-label').selectOption('vip');
  await page.getByTestId('search-summary').filter({ hasText: 'Nothing matches “invoice”.' }).waitFor();
  await page.getByTestId('search-input').fill('refund');
  await page.getByTestId('search-input').press('Enter');
  await page.locator(`[data-testid="search-result"][data-id="${conv.bob}"]`).waitFor();
  assert.deepEqual(await resultIds(page), [conv.bob]);
  await page.context().close();
});

test('a query the search cannot take says why', async () => {
  const page = await searchFor('x'.repeat(201));
  const error = page.getByTestId('search-error');
  await error.waitFor();
  assert.match(await error.innerText(), /200 characters/);
  await page.context().close();
});
