// The console's shell: the header at phone width, settings navigation filtered by role,
// keyboard reach and ARIA landmarks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, eventually } from './support/kefu.mjs';

let k;
before(async () => { k = await startKefu(); });
after(async () => { await k?.stop(); });

/** The box of a control, polled with a deadline: right after sign-in the profile's language is
 * applied and the header is drawn again, so the first look may fall between two renders. */
function boxOf(page, testid) {
  return eventually(() => page.getByTestId(testid).boundingBox(), `a box for ${testid}`, 5000);
}

test('at 375 px the header keeps Sign out on screen and nothing overflows', async () => {
  for (const lang of ['en', 'zh-CN']) {
    const page = await k.newPage({ width: 375, height: 740, lang });
    await k.login(page);
    for (const where of ['conversations', 'settings']) {
      if (where === 'settings') await openSettings(page, 'profile');
      const box = await boxOf(page, 'logout');
      assert.ok(box, `${lang}/${where}: Sign out is displayed`);
      assert.ok(box.x >= 0 && box.x + box.width <= 375, `${lang}/${where}: Sign out lies within 375 px (${box.x}+${box.width})`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.equal(overflow, 0, `${lang}/${where}: no horizontal scrolling`);
      for (const id of ['open-settings', 'nav-conversations', 'lang-toggle', 'status-online']) {
        const b = await boxOf(page, id);
        assert.ok(b && b.x + b.width <= 375, `${lang}/${where}: ${id} is on screen`);
      }
    }
    await page.getByTestId('logout').click();
    await page.getByTestId('login-email').waitFor();
    await page.context().close();
  }
});

test('settings navigation shows each role the pages it may use', async () => {
  const admin = await k.token();
  for (const [role, email] of [['agent', 'agent1@example.com'], ['supervisor', 'sup1@example.com']]) {
    const r = await k.api('POST', '/agents', { token: admin, body: { email, name: role, role, password: 'password-123' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const expect = {
    'agent1@example.com': ['profile', 'canned', 'tokens'],
    'sup1@example.com': ['profile', 'agents', 'teams', 'labels', 'canned', 'knowledge', 'deliveries', 'tokens', 'reports'],
  };
  for (const [email, pages] of Object.entries(expect)) {
    const page = await k.newPage();
    await k.login(page, email, 'password-123');
    await openSettings(page, 'profile');
    const ids = await page.getByTestId('settings-nav').locator('a').evaluateAll((as) => as.map((a) => a.dataset.testid.replace(/^nav-/, '')));
    assert.deepEqual(ids, pages, `${email} sees ${pages}`);
    // A page the role may not open says so instead of failing.
    await page.goto(`${k.base}/console/#/settings/inboxes`);
    await page.getByTestId('not-allowed').waitFor();
    await page.context().close();
  }
  const page = await k.newPage();
  await k.login(page);
  await openSettings(page, 'profile');
  const ids = await page.getByTestId('settings-nav').locator('a').evaluateAll((as) => as.map((a) => a.dataset.testid.replace(/^nav-/, '')));
  for (const id of ['profile', 'agents', 'teams', 'labels', 'canned', 'inboxes', 'tokens']) assert.ok(ids.includes(id), `admins see ${id}: ${ids}`);
  await page.context().close();
});

test('the header and settings are keyboard reachable with ARIA landmarks', async () => {
  const page = await k.newPage();
  await k.login(page);
  assert.equal(await page.locator('nav[aria-label]').count() >= 1, true, 'the main navigation is a labelled nav');
  assert.equal(await page.locator('[role="tablist"] [role="tab"][aria-selected="true"]').count(), 1, 'list tabs are ARIA tabs');
  // Tab from the top of the page reaches the settings link, and Enter opens it.
  await page.locator('body').focus();
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'open-settings');
  }
  assert.ok(reached, 'Tab reaches the settings link');
  await page.keyboard.press('Enter');
  await page.getByTestId('settings-nav').waitFor();
  assert.equal(await page.locator('[data-testid="settings-nav"] a[aria-current="page"]').count(), 1, 'the current page is marked');
  // Dialogs are modal, named, and close with Escape.
  await openSettings(page, 'teams');
  await page.getByTestId('team-new-name').fill('Billing');
  await page.getByTestId('team-create').click();
  await page.getByTestId('team-card').first().waitFor();
  await page.getByTestId('team-delete').click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.ok(await dialog.getAttribute('aria-labelledby'), 'the dialog is named by its title');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('team-card').count(), 1, 'Escape cancels the deletion');
  await page.context().close();
});
