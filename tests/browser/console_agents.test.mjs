// Agents page: validation errors next to their fields; invite with a one-time link that the
// new agent opens in a second browser context to set a password; edit skills and teams;
// deactivate and reactivate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, fieldError } from './support/kefu.mjs';

let k;
before(async () => { k = await startKefu(); });
after(async () => { await k?.stop(); });

test('agent form errors are shown next to their fields and nothing is stored', async () => {
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'agents');
  await page.getByTestId('agent-add').click();
  const form = page.getByTestId('agent-form');

  await page.getByTestId('agent-email').fill('not-an-email');
  await page.getByTestId('agent-name').fill('Bob');
  await page.getByTestId('agent-submit').click();
  await fieldError(form, 'email').waitFor();
  assert.equal(await page.getByTestId('agent-name').inputValue(), 'Bob', 'typed values are kept');

  await page.getByTestId('agent-email').fill('bob@example.com');
  await page.getByTestId('agent-max').fill('0');
  await page.getByTestId('agent-submit').click();
  await fieldError(form, 'max_concurrent').waitFor();

  await page.getByTestId('agent-max').fill('3');
  await page.getByTestId('skill-add').click();
  await page.getByTestId('agent-submit').click();
  await fieldError(form, 'skills').waitFor();
  assert.match(await fieldError(form, 'skills').innerText(), /name/i);

  const list = await k.api('GET', '/agents', { token: await k.token() });
  assert.ok(!list.body.items.some((a) => a.email === 'bob@example.com'), 'no agent was created by the failed attempts');
  await page.keyboard.press('Escape');
  await page.context().close();
});

test('an invited agent sets a password from the link in another browser and is signed in', async () => {
  const admin = await k.token();
  assert.equal((await k.api('POST', '/teams', { token: admin, body: { name: 'Billing' } })).status, 201);
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'agents');
  await page.getByTestId('agent-add').click();
  await page.getByTestId('agent-email').fill('carol@example.com');
  await page.getByTestId('agent-name').fill('Carol');
  await page.getByTestId('agent-max').fill('4');
  await page.getByTestId('skill-add').click();
  await page.getByTestId('skill-name').fill('billing');
  await page.getByTestId('skill-level').selectOption('7');
  await page.locator('[data-testid^="agent-team-"]').first().check();
  await page.getByTestId('agent-submit').click();
  const link = await page.getByTestId('invite-url').inputValue();
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/console\/#\/invite\/.+/);
  await page.getByTestId('invite-done').click();
  const row = page.locator('[data-testid="agent-row"][data-email="carol@example.com"]');
  await row.waitFor();
  assert.match(await row.getByTestId('agent-state').innerText(), /Invited/);
  assert.match(await row.innerText(), /billing · 7/);
  assert.match(await row.innerText(), /Billing/);

  // The invited agent, in a second browser context.
  const carol = await k.newPage();
  await carol.goto(link);
  await carol.getByTestId('invite-account').waitFor();
  assert.match(await carol.getByTestId('invite-account').innerText(), /carol@example\.com/);
  await carol.getByTestId('invite-password').fill('short');
  await carol.getByTestId('invite-confirm').fill('short');
  await carol.getByTestId('invite-submit').click();
  await carol.locator('[data-field="password"] .field-error').waitFor();
  await carol.getByTestId('invite-password').fill('carols-password');
  await carol.getByTestId('invite-confirm').fill('carols-password');
  await carol.getByTestId('invite-submit').click();
  await carol.getByTestId('logout').waitFor();
  assert.equal((await k.api('POST', '/auth/login', { body: { email: 'carol@example.com', password: 'carols-password' } })).status, 200);

  // The link worked once.
  const again = await k.newPage();
  await again.goto(link);
  await again.getByTestId('invite-error').waitFor();
  await again.context().close();

  // The admin's list shows Carol as active now.
  await page.reload();
  await row.waitFor();
  assert.match(await row.getByTestId('agent-state').innerText(), /Active/);
  await carol.context().close();
  await page.context().close();
});

test('admins edit skills, deactivate and reactivate an agent', async () => {
  const admin = await k.token();
  const made = await k.api('POST', '/agents', { token: admin, body: { email: 'dave@example.com', name: 'Dave', role: 'agent', password: 'daves-password' } });
  assert.equal(made.status, 201);
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'agents');
  const row = page.locator('[data-testid="agent-row"][data-email="dave@example.com"]');
  await row.getByTestId('agent-edit').click();
  await page.getByTestId('skill-add').click();
  await page.getByTestId('skill-name').fill('vip');
  await page.getByTestId('skill-level').selectOption('10');
  await page.getByTestId('agent-role').selectOption('supervisor');
  await page.getByTestId('agent-submit').click();
  await page.getByTestId('agent-dialog').waitFor({ state: 'detached' });
  const dave = (await k.api('GET', `/agents/${made.body.id}`, { token: admin })).body;
  assert.deepEqual(dave.skills, { vip: 10 });
  assert.equal(dave.role, 'supervisor');

  const daveToken = await k.token('dave@example.com', 'daves-password');
  await row.getByTestId('agent-deactivate').click();
  await page.getByTestId('confirm-yes').click();
  await row.locator('[data-testid="agent-state"]', { hasText: 'Deactivated' }).waitFor();
  assert.equal((await k.api('GET', '/profile', { token: daveToken })).status, 401, 'their session stopped working');
  assert.equal((await k.api('POST', '/auth/login', { body: { email: 'dave@example.com', password: 'daves-password' } })).status >= 400, true);
  await row.getByTestId('agent-reactivate').click();
  await row.locator('[data-testid="agent-state"]', { hasText: 'Active' }).waitFor();
  assert.equal((await k.api('POST', '/auth/login', { body: { email: 'dave@example.com', password: 'daves-password' } })).status, 200);
  await page.context().close();
});
