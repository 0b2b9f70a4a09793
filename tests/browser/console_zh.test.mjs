// A zh-CN pass over the shell and the accounts pages (sign-in, invitation, conversations,
// profile, agents, teams, API tokens, their dialogs and an API error): no English UI string
// and no English sentence from the server may show.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, assertNoEnglish, ADMIN } from './support/kefu.mjs';

let k;
before(async () => { k = await startKefu(); });
after(async () => { await k?.stop(); });

test('every accounts screen shows zh-CN text only', async () => {
  const admin = await k.token();
  const user = ['Kefu', ADMIN.email, 'admin@example.com', 'Admin', 'Zhang Wei', 'zhang@example.com', 'API', 'Token', 'Webhook', 'JSON', 'EN', 'English', 'App', 'URL', 'CRM'];
  await k.api('POST', '/teams', { token: admin, body: { name: '售后' } });
  const page = await k.newPage({ lang: 'zh-CN' });

  await page.goto(`${k.base}/console/`);
  await page.getByTestId('login-email').waitFor();
  await assertNoEnglish(page, 'sign-in', user);
  // A failed sign-in: the error is translated.
  await page.getByTestId('login-email').fill(ADMIN.email);
  await page.getByTestId('login-password').fill('wrong-password');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').waitFor();
  await assertNoEnglish(page, 'sign-in error', user);

  await k.login(page);
  await page.getByTestId('tab-queue').waitFor();
  await assertNoEnglish(page, 'conversations', user);

  await openSettings(page, 'profile');
  await assertNoEnglish(page, 'profile', user);
  await page.getByTestId('password-current').fill('wrong-password');
  await page.getByTestId('password-new').fill('another-password');
  await page.getByTestId('password-confirm').fill('another-password');
  await page.getByTestId('password-save').click();
  await page.locator('[data-field="current_password"] .field-error').waitFor();
  assert.match(await page.locator('[data-field="current_password"] .field-error').innerText(), /[\u4e00-\u9fff]/, 'the API error is in Chinese');
  await assertNoEnglish(page, 'profile error', user);

  await openSettings(page, 'agents');
  await page.getByTestId('agents-table').waitFor();
  await assertNoEnglish(page, 'agents', user);
  await page.getByTestId('agent-add').click();
  await page.getByTestId('skill-add').click();
  await assertNoEnglish(page, 'agent dialog', user);
  await page.getByTestId('agent-email').fill('zhang@example.com');
  await page.getByTestId('agent-name').fill('Zhang Wei');
  await page.getByTestId('skill-name').fill('billing');
  await page.getByTestId('agent-submit').click();
  await page.getByTestId('invite-url').waitFor();
  await assertNoEnglish(page, 'invite link dialog', [...user, 'billing']);
  const link = await page.getByTestId('invite-url').inputValue();
  await page.getByTestId('invite-done').click();
  // A server error in a dialog (the email is taken): translated too.
  await page.getByTestId('agent-add').click();
  await page.getByTestId('agent-email').fill('zhang@example.com');
  await page.getByTestId('agent-name').fill('Zhang Wei');
  await page.getByTestId('agent-submit').click();
  await page.locator('[data-testid="agent-form"] [role="alert"]:not([hidden])').first().waitFor();
  await assertNoEnglish(page, 'agent conflict', user);
  await page.keyboard.press('Escape');

  await openSettings(page, 'teams');
  await assertNoEnglish(page, 'teams', user);
  await page.getByTestId('team-members').first().click();
  await assertNoEnglish(page, 'team members dialog', user);
  await page.keyboard.press('Escape');

  await openSettings(page, 'tokens');
  await assertNoEnglish(page, 'tokens', user);
  await page.getByTestId('token-name').fill('CRM');
  await page.getByTestId('token-create').click();
  await page.getByTestId('token-value').waitFor();
  await assertNoEnglish(page, 'token created', user);
  await page.getByTestId('token-done').click();
  await page.getByTestId('token-row').waitFor();
  await assertNoEnglish(page, 'token list', user);

  // The invitation screen, signed out, in a second context.
  const invited = await k.newPage({ lang: 'zh-CN' });
  await invited.goto(link);
  await invited.getByTestId('invite-account').waitFor();
  await assertNoEnglish(invited, 'invitation', user);
  await invited.goto(`${k.base}/console/#/invite/not-a-real-token`);
  await invited.getByTestId('invite-error').waitFor();
  await assertNoEnglish(invited, 'invitation error', user);
  await invited.context().close();
  await page.context().close();
});
