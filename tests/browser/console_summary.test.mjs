// The summary card at the resolved timeline line: it arrives live when the conversation is
// resolved elsewhere, is still there after a reload, and its header speaks English and Chinese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, ADMIN } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';
const FIRST = 'My order A1234 has not arrived. The tracking page for order A1234 has not changed for a week.';
const REPLY = 'Sorry! Order A1234 is delayed at the warehouse, and it ships on Friday.';
const QUESTION = 'Can I get a refund if order A1234 is late again?';

let k;
let admin;
let conv;

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  const me = await k.api('POST', '/auth/login', { body: ADMIN });
  const inbox = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(inbox.id, JSON.stringify(inbox));
  const user_hash = createHmac('sha256', APP_SECRET).update('alice').digest('hex');
  const say = async (client_id, text) => {
    const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ external_id: 'alice', user_hash, client_id, text }),
    });
    assert.ok(res.ok, String(res.status));
    return (await res.json()).conversation_id;
  };
  conv = await say('alice-1', FIRST);
  assert.ok(conv);
  const mine = await admin.call('POST', `/conversations/${conv}/assign`, { agent_id: me.body.agent.id });
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  const reply = await admin.call('POST', `/conversations/${conv}/messages`, { text: REPLY });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  await say('alice-2', QUESTION);
  assert.equal((await admin.call('POST', '/labels', { name: 'shipping' })).status, 201);
  const labelled = await admin.call('PUT', `/conversations/${conv}/labels`, { labels: ['shipping'] });
  assert.equal(labelled.status, 200, JSON.stringify(labelled.body));
});
after(async () => { await k?.stop(); });

/** The summary card of the resolved line in the open thread. */
const card = (page) => page.locator('[data-testid="activity-line"][data-kind="resolved"] [data-testid="summary-card"]');

/** One fact of the card, as `"name: value"`. */
const fact = async (page, key) => {
  const f = card(page).locator(`[data-fact="${key}"]`);
  return `${(await f.locator('dt').textContent()).trim()}: ${(await f.locator('dd').textContent()).trim()}`;
};

/** The card's sentences, as `[speaker, text]`. */
const sentences = (page) => card(page).getByTestId('summary-sentence')
  .evaluateAll((els) => els.map((e) => [e.children[0].textContent, e.children[1].textContent]));

test('the card arrives live at the resolved line and survives a reload', async () => {
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/c/${conv}`);
  await page.locator('[data-testid="activity-line"][data-kind="assigned"]').waitFor();
  assert.equal(await card(page).count(), 0);

  const resolved = await admin.call('POST', `/conversations/${conv}/resolve`);
  assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
  await card(page).waitFor();
  assert.equal((await card(page).locator('.summary-title').textContent()).trim(), 'Summary');
  assert.equal(await fact(page, 'channel'), 'Channel: App');
  assert.equal(await fact(page, 'labels'), 'Labels: shipping');
  assert.match(await fact(page, 'duration'), /^Duration: \d+ (s|min)$/);
  assert.equal(await fact(page, 'open_question'), `Open question: ${QUESTION}`);
  assert.equal(await card(page).locator('[data-fact="intent"]').count(), 0, 'no intent yet');
  const said = await sentences(page);
  const want = resolved.body.summary.sentences.map((s) => [s.speaker === 'agent' ? 'Agent' : 'Customer', s.text]);
  assert.ok(said.length >= 1 && said.length <= 3, JSON.stringify(said));
  assert.deepEqual(said, want);
  assert.ok(said.some(([, text]) => text.includes('A1234')), JSON.stringify(said));

  await page.reload();
  await card(page).waitFor();
  assert.deepEqual(await sentences(page), want);
  assert.equal(await fact(page, 'open_question'), `Open question: ${QUESTION}`);
  await page.context().close();
});

test('the card speaks Chinese', async () => {
  const summaries = await admin.call('GET', `/conversations/${conv}/summaries`);
  assert.equal(summaries.status, 200, JSON.stringify(summaries.body));
  const [summary] = summaries.body.items;
  const page = await k.signedInPage('zh-CN');
  await page.goto(`${k.base}/console/#/c/${conv}`);
  await card(page).waitFor();
  assert.equal((await card(page).locator('.summary-title').textContent()).trim(), '会话摘要');
  assert.equal(await fact(page, 'channel'), '渠道: App');
  assert.equal(await fact(page, 'labels'), '标签: shipping');
  assert.match(await fact(page, 'duration'), /^时长: \d+ (秒|分钟)$/);
  assert.equal(await fact(page, 'open_question'), `待解答的问题: ${QUESTION}`);
  const speakers = (await sentences(page)).map(([who]) => who);
  assert.deepEqual(speakers, summary.sentences.map((s) => (s.speaker === 'agent' ? '客服' : '客户')));
  // Besides what the customer and the agent wrote, the label and the channel's brand name,
  // the card shows no English.
  let rest = await card(page).innerText();
  for (const said of [QUESTION, ...summary.sentences.map((x) => x.text), 'shipping', 'App']) rest = rest.split(said).join('');
  assert.doesNotMatch(rest, /[A-Za-z]{2,}/, rest);
  await page.context().close();
});
