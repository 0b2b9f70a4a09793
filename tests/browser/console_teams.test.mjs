// Teams page: errors next to the name field; create, rename, set members, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, fieldError } from './support/kefu.mjs';

let k;
before(async () => { k = await startKefu(); });
after(async () => { await k?.stop(); });

test('team name errors are shown next to the field and keep what was typed', async () => {
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'teams');
  const form = page.getByTestId('team-create-form');
  await page.getByTestId('team-create').click();
  await fieldError(form, 'name').waitFor();

  await page.getByTestId('team-new-name').fill('Sales');
  await page.getByTestId('team-create').click();
  await page.locator('[data-testid="team-card"][data-name="Sales"]').waitFor();
  await page.getByTestId('team-new-name').fill('Sales');
  await page.getByTestId('team-create').click();
  await page.locator('[data-testid="form-error"], [data-field="name"] .field-error').filter({ hasText: /\S/ }).first().waitFor();
  assert.equal(await page.getByTestId('team-new-name').inputValue(), 'Sales', 'the typed name is kept');
  const teams = (await k.api('GET', '/teams', { token: await k.token() })).body.items;
  assert.equal(teams.filter((t) => t.name === 'Sales').length, 1, 'no second team was stored');
  await page.context().close();
});

test('a team is renamed, gets members and is deleted', async () => {
  const admin = await k.token();
  const eve = (await k.api('POST', '/agents', { token: admin, body: { email: 'eve@example.com', name: 'Eve', password: 'eves-password' } })).body;
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'teams');
  await page.getByTestId('team-new-name').fill('Support');
  await page.getByTestId('team-create').click();
  const card = page.locator('[data-testid="team-card"][data-name="Support"]');
  await card.getByTestId('team-rename').click();
  await page.getByTestId('team-rename-name').fill('Support CN');
  await page.getByTestId('team-rename-save').click();
  const renamed = page.locator('[data-testid="team-card"][data-name="Support CN"]');
  await renamed.waitFor();

  await renamed.getByTestId('team-members').click();
  await page.getByTestId(`team-member-${eve.id}`).check();
  await page.getByTestId('team-members-save').click();
  await renamed.getByTestId('team-member-names').filter({ hasText: 'Eve' }).waitFor();
  const team = (await k.api('GET', '/teams', { token: admin })).body.items.find((t) => t.name === 'Support CN');
  assert.deepEqual(team.member_ids || team.agent_ids, [eve.id]);

  await renamed.getByTestId('team-delete').click();
  await page.getByTestId('confirm-yes').click();
  await renamed.waitFor({ state: 'detached' });
  const left = (await k.api('GET', '/teams', { token: admin })).body.items;
  assert.ok(!left.some((t) => t.name === 'Support CN'));
  await page.context().close();
});
