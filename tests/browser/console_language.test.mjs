// Switching the language (en ↔ zh-CN) rebuilds the view in the other language and keeps what
// was typed and not saved yet: on the sign-in form, a settings form, a schema-built channel
// form and the routing editor's unsaved rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, openRoute } from './support/kefu.mjs';

let k;
before(async () => { k = await startKefu(); });
after(async () => { await k?.stop(); });

/**
 * Clicks the language toggle; waits until the page is in the other language and, signed in,
 * until the settings page has been built again. Resolves to the new language.
 */
async function switchLang(page) {
  const to = (await page.locator('html').getAttribute('lang')) === 'zh-CN' ? 'en' : 'zh-CN';
  const settings = page.locator('.settings-content > .page');
  const signedIn = await settings.count();
  if (signedIn) await settings.evaluate((el) => { el.dataset.stale = '1'; });
  await page.getByTestId('lang-toggle').click();
  await page.locator(`html[lang="${to}"]`).waitFor();
  if (signedIn) await page.locator('.settings-content > .page:not([data-stale])').waitFor();
  return to;
}

test('the sign-in form keeps the typed email across a language switch', async () => {
  const page = await k.newPage();
  await page.goto(`${k.base}/console/`);
  await page.getByTestId('login-email').fill('someone@example.com');
  await page.getByTestId('login-password').fill('half-typed');
  assert.equal(await switchLang(page), 'zh-CN');
  await page.getByTestId('login-submit').filter({ hasText: /[\u4e00-\u9fff]/ }).waitFor();
  assert.equal(await page.getByTestId('login-email').inputValue(), 'someone@example.com');
  assert.equal(await page.getByTestId('login-password').inputValue(), 'half-typed');
  await page.context().close();
});

test('settings forms keep unsaved input, and nothing is saved by the switch', async () => {
  const page = await k.newPage();
  await k.login(page);

  await openSettings(page, 'teams');
  await page.getByTestId('team-new-name').fill('Night shift');
  await switchLang(page);
  await page.locator('.page:not([data-stale]) [data-testid="team-new-name"]').waitFor();
  assert.equal(await page.getByTestId('team-new-name').inputValue(), 'Night shift');
  const teams = await k.api('GET', '/teams', { token: await k.token() });
  assert.ok(!teams.body.items.some((t) => t.name === 'Night shift'), 'the switch saved nothing');

  // A form built from a channel's JSON Schema.
  await openRoute(page, 'inboxes/new/wechat', 'inbox-form');
  await page.getByTestId('inbox-name').fill('WeChat (draft)');
  await page.getByTestId('field-channel.app_id').fill('wx0123456789abcdef');
  await switchLang(page);
  await page.locator('.page:not([data-stale]) [data-testid="inbox-form"][data-type="wechat"]').waitFor();
  assert.equal(await page.getByTestId('inbox-name').inputValue(), 'WeChat (draft)');
  assert.equal(await page.getByTestId('field-channel.app_id').inputValue(), 'wx0123456789abcdef');
  await page.context().close();
});

test('the routing editor keeps an unsaved rule across a language switch', async () => {
  const admin = await k.token();
  const inbox = (await k.api('POST', '/inboxes', { token: admin, body: { name: 'Web', channel: { type: 'web_chat' } } })).body;
  const page = await k.newPage();
  await k.login(page);
  await openRoute(page, `routing/${inbox.id}`, 'routing-form');
  await page.getByTestId('rule-add').click();
  const rule = page.locator('[data-testid="rule"]').last();
  await rule.getByTestId('rule-name').fill('refunds');
  await rule.getByTestId('rule-keyword-item').first().fill('refund');
  await page.getByTestId('try-text').fill('a refund please');

  await switchLang(page);
  await page.locator('.page:not([data-stale]) [data-testid="routing-form"]').waitFor();
  const again = page.locator('[data-testid="rule"]');
  assert.equal(await again.count(), 1, 'the unsaved rule is still there');
  assert.equal(await again.getByTestId('rule-name').inputValue(), 'refunds');
  assert.equal(await again.getByTestId('rule-keyword-item').first().inputValue(), 'refund');
  assert.equal(await page.getByTestId('try-text').inputValue(), 'a refund please');
  const stored = await k.api('GET', `/inboxes/${inbox.id}/routing`, { token: admin });
  assert.equal(stored.body.routing.rules.length, 0, 'the switch saved nothing');
  await page.context().close();
});
