// The knowledge base's settings page end to end: an entry is added (a missing answer refused
// next to its field), shown with its other phrasings, edited, disabled and deleted, and the
// page reads in zh-CN. What is saved is what the API returns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, fieldError, assertNoEnglish, shot } from './support/kefu.mjs';

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
  await page.getByTestId('knowledge-create').click();
  await rows(page).first().waitFor();
  assert.equal(await rows(page).first().getByTestId('knowledge-row-answer').textContent(), '满 99 元包邮。');
  await shot(page, 'knowledge-settings');

  // Edit: a new answer, and disabled.
  await rows(page).first().getByTestId('knowledge-edit').click();
  const dialog = page.getByTestId('knowledge-edit-dialog');
  await dialog.getByTestId('knowledge-answer').fill('满 99 元包邮，不满收 10 元。');
  await dialog.getByTestId('knowledge-enabled').uncheck();
  await dialog.getByTestId('knowledge-edit-save').click();
  await rows(page).first().getByTestId('knowledge-row-disabled').waitFor();
  const stored = (await admin.call('GET', '/knowledge')).body.items
    .map((e) => [e.question, e.alternatives, e.answer, e.tags, e.locale, e.enabled]);
  assert.deepEqual(stored, [['运费是多少钱', ['运费多少', '邮费怎么算'], '满 99 元包邮，不满收 10 元。', ['物流', '运费'], 'zh-CN', false]]);

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
