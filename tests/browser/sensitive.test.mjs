// The sensitive-words settings page end to end: a word rule is added (a route without a team
// refused next to its field), shown, switched to a detector and disabled, and deleted; the page
// reads in zh-CN. What is saved is what the API returns.
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

const rows = (page) => page.getByTestId('sensitive-row');

test('sensitive-word rules are added, edited and deleted, in English and Chinese', async () => {
  const team = (await admin.call('POST', '/teams', { name: 'Risk control' })).body;
  const page = await k.newPage({ height: 1200 });
  await k.login(page);
  await openSettings(page, 'sensitive');
  await page.getByTestId('sensitive-empty').waitFor();

  // A route rule needs a team: refused next to the team field; what was typed stays.
  const form = page.getByTestId('sensitive-create-form');
  await page.getByTestId('sensitive-name').fill('Fraud');
  await page.getByTestId('sensitive-words').fill('套现\n洗钱');
  await page.getByTestId('sensitive-action').selectOption('route');
  await page.getByTestId('sensitive-create').click();
  await fieldError(form, 'team_id').waitFor();
  assert.equal(await page.getByTestId('sensitive-words').inputValue(), '套现\n洗钱');

  await page.getByTestId('sensitive-team').selectOption(String(team.id));
  await page.getByTestId('sensitive-create').click();
  await rows(page).first().waitFor();
  assert.equal(await rows(page).first().getByTestId('sensitive-row-what').textContent(), '套现 · 洗钱');
  assert.equal(await rows(page).first().getByTestId('sensitive-row-action').textContent(), 'Hand the conversation to a team (Risk control)');
  await shot(page, 'sensitive-settings');

  // Edit: look for mobile numbers instead, mask them, disabled.
  await rows(page).first().getByTestId('sensitive-edit').click();
  const dialog = page.getByTestId('sensitive-edit-dialog');
  await dialog.getByTestId('sensitive-kind').selectOption('detector');
  await dialog.getByTestId('sensitive-detector').selectOption('mobile');
  await dialog.getByTestId('sensitive-action').selectOption('mask');
  await dialog.getByTestId('sensitive-enabled').uncheck();
  await dialog.getByTestId('sensitive-edit-save').click();
  await rows(page).first().getByTestId('sensitive-row-disabled').waitFor();
  const stored = (await admin.call('GET', '/sensitive-rules')).body.items
    .map((r) => [r.name, r.words, r.detector, r.action, r.team_id, r.enabled]);
  assert.deepEqual(stored, [['Fraud', [], 'mobile', 'mask', null, false]]);

  // The same page in Chinese.
  const zh = await k.newPage({ lang: 'zh-CN', height: 1200 });
  await k.login(zh);
  await openSettings(zh, 'sensitive');
  await rows(zh).first().waitFor();
  assert.equal(await zh.getByTestId('nav-sensitive').textContent(), '敏感词');
  assert.equal(await zh.getByTestId('sensitive-create').textContent(), '添加规则');
  assert.equal(await rows(zh).first().getByTestId('sensitive-row-what').textContent(), '手机号');
  await assertNoEnglish(zh, 'sensitive words', ['Fraud', 'Kefu', 'Admin', 'admin@example.com']);
  await zh.context().close();

  // Delete.
  await rows(page).first().getByTestId('sensitive-delete').click();
  await page.getByTestId('confirm-yes').click();
  await page.getByTestId('sensitive-empty').waitFor();
  assert.deepEqual((await admin.call('GET', '/sensitive-rules')).body.items, []);
  await page.context().close();
});
