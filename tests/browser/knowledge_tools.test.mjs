// The knowledge base's tools end to end: Export downloads the CSV the API serves; Import of a
// file with bad rows lists every bad cell and stores nothing, a good file adds and replaces
// entries; proposals learnt from resolved conversations are approved as they are, edited and
// approved, or rejected; the bot card picks the bot's hours. English and zh-CN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startKefu, openSettings, openRoute, fieldError, eventually, shot } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';

let k;
let admin;
let app;

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  app = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
});
after(async () => { await k?.stop(); });

/** A customer of the app inbox writes `text`; resolves to the conversation id. */
async function customerWrites(user, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update(user).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${app.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: user, user_hash, client_id: `${user}-${text.length}`, text }),
  });
  const conv = (await res.json()).conversation_id;
  assert.ok(conv);
  return conv;
}

/** A question answered by the admin and resolved; resolves to the proposal learnt from it. */
async function learnt(user, question, answer) {
  const conv = await customerWrites(user, question);
  assert.equal((await admin.call('POST', `/conversations/${conv}/messages`, { text: answer })).status, 201);
  assert.ok((await admin.call('POST', `/conversations/${conv}/resolve`)).status < 300);
  let proposal = null;
  await eventually(async () => {
    proposal = (await admin.call('GET', '/knowledge/proposals')).body.items.find((p) => p.conversation_id === conv);
    return !!proposal;
  }, `a proposal from conversation ${conv}`);
  return proposal;
}

const entries = async () => (await admin.call('GET', '/knowledge')).body.items;

test('the knowledge base is exported and imported as CSV; bad rows are listed and nothing is stored', async () => {
  await admin.call('POST', '/knowledge', { question: '运费是多少钱', alternatives: ['邮费怎么算'], answer: '满 99 元包邮。', tags: ['物流'] });
  const page = await k.newPage({ height: 1200 });
  await k.login(page);
  await openSettings(page, 'knowledge');
  await page.getByTestId('knowledge-row').first().waitFor();

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('knowledge-export').click()]);
  assert.equal(download.suggestedFilename(), 'kefu-knowledge.csv');
  const file = readFileSync(await download.path());
  const served = await fetch(`${k.base}/api/v1/knowledge/export`, { headers: { Authorization: `Bearer ${admin.token}` } });
  assert.deepEqual(file, Buffer.from(await served.arrayBuffer()));
  const text = file.toString('utf8');
  assert.ok(text.startsWith('\ufeffid,question,alternatives,answer,tags,locale,enabled\r\n'), text);

  // Bad rows: every bad cell is listed, nothing is stored.
  const id = (await entries())[0].id;
  const bad = `id,question,answer,enabled\n${id},改过的问题,改过的答案,true\n,发票怎么开,,\n,Q,A,maybe\n`;
  await page.getByTestId('knowledge-import-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  const errs = page.getByTestId('knowledge-import-error');
  await errs.first().waitFor();
  const cells = await errs.evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-row'), r.getAttribute('data-field')]));
  assert.deepEqual(cells, [['3', 'answer'], ['4', 'enabled']]);
  await shot(page, 'knowledge-import-errors');
  assert.equal((await entries())[0].question, '运费是多少钱');

  // A good file: one replaced, one added; the errors go away.
  const good = `id,question,answer,alternatives\n${id},运费是多少钱,全场包邮。,\n,发票怎么开,在订单页申请电子发票。,"开发票\n要发票"\n`;
  await page.getByTestId('knowledge-import-file').setInputFiles({ name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await page.locator('.toast').filter({ hasText: 'Imported: 1 added, 1 updated.' }).waitFor();
  await eventually(async () => (await page.getByTestId('knowledge-row').count()) === 2, 'both entries are listed');
  assert.equal(await errs.count(), 0);
  const stored = (await entries()).map((e) => [e.question, e.answer, e.alternatives]);
  assert.deepEqual(stored, [['运费是多少钱', '全场包邮。', []], ['发票怎么开', '在订单页申请电子发票。', ['开发票', '要发票']]]);
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 1200 });
  await k.login(zh);
  await openSettings(zh, 'knowledge');
  assert.equal(await zh.getByTestId('knowledge-export').textContent(), '导出 CSV');
  assert.equal(await zh.getByTestId('knowledge-import').textContent(), '导入 CSV');
  await zh.getByTestId('knowledge-import-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('question,answer\n,A\n') });
  await zh.getByTestId('knowledge-import-summary').waitFor();
  assert.equal(await zh.getByTestId('knowledge-import-summary').textContent(), '没有导入任何内容。请修正以下单元格后重新导入文件。');
  await zh.context().close();
});

test('proposals are approved, edited and approved, or rejected', async () => {
  // An empty knowledge base covers none of the questions.
  for (const e of await entries()) await admin.call('DELETE', `/knowledge/${e.id}`);
  const weekend = await learnt('amy', '你们周末上班吗', '周末也上班，9 点到 18 点。');
  const invoice = await learnt('bob', '能开专用发票吗', '可以，请提供税号。');
  const gift = await learnt('cat', '可以包装成礼物吗', '可以，下单时备注。');

  const page = await k.newPage({ height: 1400 });
  await k.login(page);
  await openSettings(page, 'knowledge');
  const card = (p) => page.locator(`[data-testid="proposal"][data-id="${p.id}"]`);
  await card(weekend).waitFor();
  assert.equal(await page.getByTestId('proposals-count').textContent(), '3');
  assert.equal(await card(weekend).getByTestId('proposal-question').textContent(), '你们周末上班吗');

  // As it is.
  await card(gift).getByTestId('proposal-approve').click();
  await card(gift).waitFor({ state: 'detached' });
  await page.getByTestId('knowledge-row').filter({ hasText: '可以包装成礼物吗' }).waitFor();

  // Edited: an empty question is refused next to its field; then approved.
  await card(weekend).getByTestId('proposal-edit').click();
  const dialog = page.getByTestId('proposal-edit-dialog');
  await dialog.getByTestId('proposal-edit-question').fill('');
  await dialog.getByTestId('proposal-edit-save').click();
  await fieldError(dialog, 'question').waitFor();
  await dialog.getByTestId('proposal-edit-question').fill('周末上班吗');
  await dialog.getByTestId('proposal-edit-save').click();
  await card(weekend).waitFor({ state: 'detached' });
  await page.getByTestId('knowledge-row').filter({ hasText: '周末上班吗' }).waitFor();

  // Rejected.
  await card(invoice).getByTestId('proposal-reject').click();
  await page.getByTestId('proposals-empty').waitFor();
  const decided = (await admin.call('GET', '/knowledge/proposals')).body.items
    .map((p) => [p.conversation_id, p.status]).sort((a, b) => a[0] - b[0]);
  assert.deepEqual(decided, [[weekend.conversation_id, 'approved'], [invoice.conversation_id, 'rejected'], [gift.conversation_id, 'approved']]);
  const questions = (await entries()).map((e) => e.question).sort();
  assert.deepEqual(questions, ['可以包装成礼物吗', '周末上班吗']);
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 1200 });
  await k.login(zh);
  await openSettings(zh, 'knowledge');
  await zh.getByTestId('proposals').getByText('待审建议', { exact: true }).waitFor();
  assert.equal(await zh.getByTestId('proposals-empty').textContent(), '没有待审的建议。');
  await zh.context().close();
});

test("the bot card picks the bot's hours", async () => {
  const schedule = (await admin.call('POST', '/schedules', { name: 'Bot hours', time_zone: 'Asia/Shanghai', weekly: { mon: [['09:00', '18:00']] } })).body;
  const page = await k.newPage({ height: 2000 });
  await k.login(page);
  await openRoute(page, `inboxes/${app.id}`, 'inbox-bot');
  const card = page.getByTestId('inbox-bot');
  await eventually(async () => (await card.getByTestId('bot-min-score').inputValue()) === '0.35', 'the stored settings are shown');
  assert.equal(await card.getByTestId('bot-schedule').inputValue(), '');
  await card.getByTestId('bot-schedule').selectOption(String(schedule.id));
  await card.getByTestId('bot-save').click();
  await page.locator('.toast').filter({ hasText: 'FAQ bot saved.' }).waitFor();
  assert.equal((await admin.call('GET', `/inboxes/${app.id}/bot`)).body.schedule_id, schedule.id);
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 2000 });
  await k.login(zh);
  await openRoute(zh, `inboxes/${app.id}`, 'inbox-bot');
  const zcard = zh.getByTestId('inbox-bot');
  await eventually(async () => (await zcard.getByTestId('bot-schedule').inputValue()) === String(schedule.id), 'the stored schedule is shown');
  await zcard.getByText('机器人服务时间', { exact: true }).waitFor();
  await zh.context().close();
});
