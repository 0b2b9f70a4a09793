// API tokens page: errors next to their fields; a token is shown once, works, shows its last
// use, and stops working when revoked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, fieldError } from './support/kefu.mjs';

let k;
before(async () => { k = await startKefu(); });
after(async () => { await k?.stop(); });

test('token form errors are shown next to their fields and nothing is stored', async () => {
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'tokens');
  const form = page.getByTestId('token-form');
  for (const s of ['read', 'conversations', 'admin']) await page.getByTestId(`token-scope-${s}`).uncheck();
  await page.getByTestId('token-name').fill('CI');
  await page.getByTestId('token-create').click();
  await fieldError(form, 'scopes').waitFor();

  await page.getByTestId('token-scope-read').check();
  await page.getByTestId('token-name').fill('');
  await page.getByTestId('token-create').click();
  await fieldError(form, 'name').waitFor();
  assert.equal(await page.getByTestId('token-scope-read').isChecked(), true, 'choices are kept');
  const list = await k.api('GET', '/api-tokens', { token: await k.token() });
  assert.equal(list.body.items.length, 0, 'no token was stored');
  await page.context().close();
});

test('a token is shown once, works from a script, shows its last use and can be revoked', async () => {
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'tokens');
  await page.getByTestId('token-name').fill('CRM sync');
  await page.getByTestId('token-expiry').selectOption('30');
  await page.getByTestId('token-scope-admin').uncheck();
  await page.getByTestId('token-create').click();
  const secret = await page.getByTestId('token-value').inputValue();
  assert.ok(secret.length >= 20, 'the token is shown');
  await page.getByTestId('token-done').click();
  const row = page.locator('[data-testid="token-row"][data-name="CRM sync"]');
  await row.waitFor();
  assert.ok(!(await page.locator('body').innerText()).includes(secret), 'the token is not shown again');
  assert.match(await row.getByTestId('token-last-used').innerText(), /Never/);

  assert.equal((await k.api('GET', '/conversations', { token: secret })).status, 200, 'the token works');
  await openSettings(page, 'profile');
  await openSettings(page, 'tokens');
  assert.doesNotMatch(await row.getByTestId('token-last-used').innerText(), /Never/, 'the last use is shown');

  await row.getByTestId('token-revoke').click();
  await page.getByTestId('confirm-yes').click();
  await row.waitFor({ state: 'detached' });
  assert.equal((await k.api('GET', '/conversations', { token: secret })).status, 401, 'a revoked token stops working');
  await page.context().close();
});
