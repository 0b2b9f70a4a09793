// The knowledge base's settings page end to end: an entry is added (a missing answer refused
// next to its field), shown with its other phrasings, edited, disabled and deleted, and the
// page reads in zh-CN. What is saved is what the API returns. An inbox's FAQ bot card sets the
// mode and thresholds, refusing an out-of-range score next to its field. The reply box shows
// the suggested answers to the customer's latest message; Alt+1 inserts the first, with the
// files saved with its answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, openSettings, openRoute, fieldError, assertNoEnglish, eventually, shot } from './support/kefu.mjs';

let k;
let admin;

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
});
after(async () => { await k?.stop(); });

const rows = (page) => page.getByTestId('knowledge-row');

test('knowledge entries are added, edited, disabled and deleted, in English and Chinese', async () => {
  const page = await k.newPage({ height: 1000 });
  await k.login(page);
  await openSettings(page, 'knowledge');
  await page.getByTestId('knowledge-empty').waitFor();

  // A missing answer is refused next to its field; what was typed stays.
  await page.getByTestId('knowledge-question').fill('运费是多少钱');
  await page.getByTestId('knowledge-create').click();
  await fieldError(page.getByTestId('knowledge-create-form'), 'answer').waitFor();
  assert.equal(await page.getByTestId('knowledge-question').inputValue(), '运费是多少钱');

  await page.getByTestId('knowledge-alternatives').fill('运费多少\n邮费怎么算');
  await page.getByTestId('knowledge-answer').fill('满 99 元包邮。');
  await page.getByTestId('knowledge-tags').fill('物流, 运费');
  await page.getByTestId('knowledge-locale').fill('zh-CN');
  // A file sent with the answer: uploaded at once, shown as a chip.
  await page.getByTestId('knowledge-new-file-input').setInputFiles({ name: 'rates.txt', mimeType: 'text/plain', buffer: Buffer.from('北京 10 元\n') });
  await page.locator('[data-testid="knowledge-new-file"][data-state="ready"]', { hasText: 'rates.txt' }).waitFor();
  await page.getByTestId('knowledge-create').click();
  await rows(page).first().waitFor();
  assert.equal(await rows(page).first().getByTestId('knowledge-row-answer').textContent(), '满 99 元包邮。');
  await rows(page).first().getByTestId('knowledge-row-file').filter({ hasText: 'rates.txt' }).waitFor();
  assert.equal(await page.getByTestId('knowledge-new-file').count(), 0, 'the form forgets the file once saved');
  assert.equal(await page.getByTestId('knowledge-question').inputValue(), '');
  assert.ok(await page.getByTestId('knowledge-enabled').isChecked(), 'the next entry is enabled by default');
  await shot(page, 'knowledge-settings');

  // Edit: a new answer, and disabled.
  await rows(page).first().getByTestId('knowledge-edit').click();
  const dialog = page.getByTestId('knowledge-edit-dialog');
  await dialog.getByTestId('knowledge-answer').fill('满 99 元包邮，不满收 10 元。');
  await dialog.getByTestId('knowledge-enabled').uncheck();
  // The dialog shows the entry's file; removing it saves the entry without it.
  await dialog.getByTestId('knowledge-edit-file').filter({ hasText: 'rates.txt' }).waitFor();
  await dialog.getByTestId('knowledge-edit-file-remove').click();
  await dialog.getByTestId('knowledge-edit-save').click();
  await rows(page).first().getByTestId('knowledge-row-disabled').waitFor();
  const stored = (await admin.call('GET', '/knowledge')).body.items
    .map((e) => [e.question, e.alternatives, e.answer, e.tags, e.locale, e.enabled, e.attachments.length]);
  assert.deepEqual(stored, [['运费是多少钱', ['运费多少', '邮费怎么算'], '满 99 元包邮，不满收 10 元。', ['物流', '运费'], 'zh-CN', false, 0]]);
  assert.equal(await rows(page).first().getByTestId('knowledge-row-file').count(), 0);

  // The same page in Chinese.
  const zh = await k.newPage({ lang: 'zh-CN', height: 1000 });
  await k.login(zh);
  await openSettings(zh, 'knowledge');
  await rows(zh).first().waitFor();
  assert.equal(await zh.getByTestId('nav-knowledge').textContent(), '知识库');
  assert.equal(await zh.getByTestId('knowledge-create').textContent(), '添加条目');
  await assertNoEnglish(zh, 'knowledge base', ['运费是多少钱', 'zh-CN', 'Kefu', 'Admin', 'admin@example.com']);
  await zh.context().close();

  // Delete.
  await rows(page).first().getByTestId('knowledge-delete').click();
  await page.getByTestId('confirm-yes').click();
  await page.getByTestId('knowledge-empty').waitFor();
  assert.deepEqual((await admin.call('GET', '/knowledge')).body.items, []);
  await page.context().close();
});

test("an inbox's FAQ bot card sets the mode and thresholds", async () => {
  const inbox = (await admin.call('GET', '/inboxes')).body.items.find((i) => i.channel.type === 'web_chat');
  const page = await k.newPage({ height: 2000 });
  await k.login(page);
  await openRoute(page, `inboxes/${inbox.id}`, 'inbox-bot');
  const card = page.getByTestId('inbox-bot');
  await eventually(async () => (await card.getByTestId('bot-min-score').inputValue()) === '0.35', 'the stored settings are shown');
  assert.equal(await card.getByTestId('bot-mode').inputValue(), 'off');

  await card.getByTestId('bot-mode').selectOption('auto');
  await card.getByTestId('bot-min-score').fill('1.5');
  await card.getByTestId('bot-save').click();
  await fieldError(card, 'min_score').waitFor();

  await card.getByTestId('bot-min-score').fill('0.6');
  await card.getByTestId('bot-max-answers').fill('2');
  await card.getByTestId('bot-save').click();
  await page.locator('.toast').filter({ hasText: 'FAQ bot saved.' }).waitFor();
  const saved = (await admin.call('GET', `/inboxes/${inbox.id}/bot`)).body;
  assert.deepEqual([saved.mode, saved.min_score, saved.min_margin, saved.max_answers], ['auto', 0.6, 0.05, 2]);
  await shot(page, 'inbox-bot');
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 2000 });
  await k.login(zh);
  await openRoute(zh, `inboxes/${inbox.id}`, 'inbox-bot');
  await zh.getByTestId('inbox-bot').getByText('问答机器人', { exact: true }).waitFor();
  assert.equal(await zh.getByTestId('bot-save').textContent(), '保存机器人设置');
  await zh.context().close();
});

test('the reply box suggests the answer the customer asked about; Alt+1 inserts it with its files', async () => {
  const APP_SECRET = 'app-secret-for-tests-0123456789';
  const form = new FormData();
  form.append('file', new Blob(['北京 10 元\n'], { type: 'text/plain' }), 'rates.txt');
  const up = await fetch(`${k.base}/api/v1/attachments`, { method: 'POST', headers: { Authorization: `Bearer ${admin.token}` }, body: form });
  assert.equal(up.status, 201);
  const rates = await up.json();
  const shipping = (await admin.call('POST', '/knowledge', { question: '运费是多少钱', answer: '满 99 元包邮。', attachment_ids: [rates.id] })).body;
  assert.deepEqual(shipping.attachments.map((f) => f.name), ['rates.txt']);
  await admin.call('POST', '/knowledge', { question: '退货流程是什么', answer: '在订单页申请退货。' });
  const app = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.equal((await admin.call('PUT', `/inboxes/${app.id}/bot`, { mode: 'suggest' })).status, 200);
  const user_hash = createHmac('sha256', APP_SECRET).update('alice').digest('hex');
  const res = await fetch(`${k.base}/channels/app/${app.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: 'alice', user_hash, client_id: 'alice-1', text: '运费多少' }),
  });
  const conv = (await res.json()).conversation_id;
  assert.ok(conv);

  const page = await k.newPage({ height: 900 });
  await k.login(page);
  await page.getByTestId('tab-open').click();
  await page.locator(`[data-testid="conv-item"][data-id="${conv}"]`).click();
  const input = page.getByTestId('reply-input');
  await input.waitFor();
  const first = page.getByTestId('suggestion').first();
  await first.waitFor();
  assert.equal(await first.getAttribute('data-id'), String(shipping.id));
  assert.equal(await first.textContent(), '1. 满 99 元包邮。');
  await input.click();
  await page.keyboard.press('Alt+Digit1');
  assert.equal(await input.inputValue(), '满 99 元包邮。');
  await page.locator('[data-testid="reply-file"][data-state="ready"]', { hasText: 'rates.txt' }).waitFor();
  await shot(page, 'composer-suggestions');
  // Sent, the reply carries the answer's file.
  await page.getByTestId('reply-send').click();
  await eventually(async () => {
    const sent = (await admin.call('GET', `/conversations/${conv}/messages`)).body.items
      .filter((m) => m.direction === 'outbound' && m.content.text === '满 99 元包邮。');
    return sent.length === 1 && sent[0].content.attachments.map((a) => a.name).join() === 'rates.txt';
  }, 'the reply stored with the file');
  await page.context().close();
});

test('the bot answers a visitor in the web chat widget, with the answer\'s file', async () => {
  const inbox = (await admin.call('GET', '/inboxes')).body.items.find((i) => i.channel.type === 'web_chat');
  assert.equal((await admin.call('PUT', `/inboxes/${inbox.id}/bot`, { mode: 'auto' })).status, 200);
  const form = new FormData();
  form.append('file', new Blob(['周一至周日 9:00-21:00\n'], { type: 'text/plain' }), 'hours.txt');
  const up = await fetch(`${k.base}/api/v1/attachments`, { method: 'POST', headers: { Authorization: `Bearer ${admin.token}` }, body: form });
  assert.equal(up.status, 201);
  const entry = await admin.call('POST', '/knowledge', {
    question: '你们的营业时间是几点', alternatives: ['几点营业', '客服几点上班'],
    answer: '客服每天 9:00 到 21:00 在线。', attachment_ids: [(await up.json()).id],
  });
  assert.equal(entry.status, 201, JSON.stringify(entry.body));

  for (const [lang, who] of [['zh-CN', '智能助手'], ['en', 'Assistant']]) {
    // The widget speaks the browser's language.
    const visitor = await (await k.browser.newContext({ locale: lang })).newPage();
    await visitor.goto(`${k.base}/`);
    await visitor.getByTestId('kefu-launcher').click();
    await visitor.getByTestId('kefu-input').fill('客服几点上班');
    await visitor.getByTestId('kefu-send').click();
    const answer = visitor.locator('[data-testid="kefu-message"][data-direction="outbound"]', { hasText: '客服每天 9:00 到 21:00 在线。' });
    await answer.waitFor({ timeout: 15_000 });
    await answer.locator('a.att', { hasText: 'hours.txt' }).waitFor();
    assert.equal(await visitor.locator('.row.out .who').last().textContent(), who);
    if (lang === 'zh-CN') await shot(visitor, 'widget-bot-answer');
    await visitor.context().close();
  }
});
