// Profile page: name, language and notifications; password change errors shown next to their
// field with the typed values kept; sign-out ends the session on the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, fieldError, ADMIN } from './support/kefu.mjs';

let k;
before(async () => { k = await startKefu(); });
after(async () => { await k?.stop(); });

test('profile validation errors stay next to their fields and keep what was typed', async () => {
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'profile');
  const form = page.getByTestId('password-form');

  // Repeated password differs: caught before sending.
  await page.getByTestId('password-current').fill('not-my-password');
  await page.getByTestId('password-new').fill('new-password-1');
  await page.getByTestId('password-confirm').fill('new-password-2');
  await page.getByTestId('password-save').click();
  await fieldError(form, 'confirm').waitFor();
  assert.match(await fieldError(form, 'confirm').innerText(), /not the same/);

  // Wrong current password: the API's detail next to current_password.
  await page.getByTestId('password-confirm').fill('new-password-1');
  await page.getByTestId('password-save').click();
  await fieldError(form, 'current_password').waitFor();
  assert.ok((await fieldError(form, 'current_password').innerText()).length > 0);
  assert.equal(await page.getByTestId('password-new').inputValue(), 'new-password-1', 'typed values are kept');
  assert.equal(await page.getByTestId('password-current').getAttribute('aria-invalid'), 'true');

  // Too short: next to new_password.
  await page.getByTestId('password-current').fill(ADMIN.password);
  await page.getByTestId('password-new').fill('short');
  await page.getByTestId('password-confirm').fill('short');
  await page.getByTestId('password-save').click();
  await fieldError(form, 'new_password').waitFor();
  assert.equal(await fieldError(form, 'current_password').isVisible(), false, 'the old error is gone');
  // Nothing was changed by the failed attempts.
  assert.equal((await k.api('POST', '/auth/login', { body: ADMIN })).status, 200);

  // Empty name: the API's error next to the name field.
  const details = page.getByTestId('profile-form');
  await page.getByTestId('profile-name').fill('   ');
  await page.getByTestId('profile-save').click();
  await fieldError(details, 'name').waitFor();
  await page.context().close();
});

test('the profile saves name, language and notifications; a password change works', async () => {
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'profile');
  await page.getByTestId('profile-name').fill('Ada Admin');
  await page.getByTestId('profile-notify-sound').uncheck();
  await page.getByTestId('profile-language').selectOption('zh-CN');
  await page.getByTestId('profile-save').click();
  await page.locator('html[lang="zh-CN"]').waitFor();
  const token = await k.token();
  const p = (await k.api('GET', '/profile', { token })).body;
  assert.equal(p.name, 'Ada Admin');
  assert.equal(p.language, 'zh-CN');
  assert.equal(p.notifications.sound, false);

  // Back to English, then change the password.
  await page.getByTestId('profile-language').selectOption('en');
  await page.getByTestId('profile-save').click();
  await page.locator('html[lang="en"]').waitFor();
  await page.getByTestId('password-current').fill(ADMIN.password);
  await page.getByTestId('password-new').fill('brand-new-password');
  await page.getByTestId('password-confirm').fill('brand-new-password');
  await page.getByTestId('password-save').click();
  await page.locator('.toast.info', { hasText: 'Password changed' }).waitFor();
  assert.equal(await page.getByTestId('password-current').inputValue(), '', 'the form is cleared after success');
  assert.equal((await k.api('POST', '/auth/login', { body: { email: ADMIN.email, password: 'brand-new-password' } })).status, 200);
  assert.equal((await k.api('GET', '/profile', { token })).status, 401, 'other sessions were ended');
  // Put the password back for the other tests.
  const fresh = await k.token(ADMIN.email, 'brand-new-password');
  const r = await k.api('POST', '/profile/password', { token: fresh, body: { current_password: 'brand-new-password', new_password: ADMIN.password } });
  assert.equal(r.status, 204);
  await page.context().close();
});

test('signing out ends the session on the server', async () => {
  const page = await k.newPage();
  await k.login(page);
  const token = await page.evaluate(() => localStorage.getItem('kefu.console.token'));
  assert.equal((await k.api('GET', '/profile', { token })).status, 200);
  await page.getByTestId('logout').click();
  await page.getByTestId('login-email').waitFor();
  assert.equal((await k.api('GET', '/profile', { token })).status, 401, 'the old token no longer works');
  await page.context().close();
});

test('a locked-out admin gets a new password from `kefu admin reset-password` and signs in with it', async () => {
  await k.api('POST', '/agents', { token: await k.token(), body: { email: 'locked@example.com', name: 'Locked', role: 'admin', password: 'forgotten-password' } });
  const before = await k.token('locked@example.com', 'forgotten-password');
  const run = await k.cli(['admin', 'reset-password', '--email', 'Locked@Example.com']);
  assert.equal(run.code, 0, run.stderr);
  const printed = run.stdout.match(/Password of locked@example\.com is now: (\S+)/i);
  assert.ok(printed, `the new password is printed: ${run.stdout}`);
  assert.equal((await k.api('GET', '/profile', { token: before })).status, 401, 'their sessions have ended');
  const page = await k.newPage();
  await k.login(page, 'locked@example.com', printed[1]);
  await openSettings(page, 'profile');
  assert.equal(await page.getByTestId('profile-email').innerText(), 'locked@example.com');
  await page.context().close();
});
