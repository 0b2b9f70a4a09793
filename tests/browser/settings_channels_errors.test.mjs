// Bad input on the channel settings pages: each page shows the API's problem next to the field
// it concerns, keeps what was typed and stores nothing. Then a zh-CN pass over the pages: no
// English text of theirs (nor a raw English error) on a Chinese screen. Runs the real `kefu`
// binary (KEFU_BIN) with its defaults, so webhook targets on loopback are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openRoute, shot } from './support/kefu.mjs';

let kefu, page, api, webInbox;

before(async () => {
  kefu = await startKefu();
  page = await kefu.signedInPage();
  api = await kefu.apiAs();
  webInbox = (await api.call('POST', '/inboxes', { name: '网站', channel: { type: 'web_chat' } })).body;
});

after(async () => {
  await kefu?.stop();
});

/** The error shown in the field wrapper `path`. */
function errorAt(p, path) {
  return p.locator(`[data-field="${path}"] [data-testid="field-error"]:not([hidden])`).first();
}

test('inboxes: a missing required setting is shown at its field and the typed values stay', async () => {
  await openRoute(page, 'inboxes/new/wechat', 'inbox-form');
  await page.getByTestId('inbox-name').fill('Official account');
  await page.getByTestId('field-channel.app_secret').fill('typed-secret');
  await page.getByTestId('field-channel.token').fill('tok');
  await page.getByTestId('inbox-save').click();
  const err = errorAt(page, 'channel.app_id');
  await err.waitFor();
  assert.match(await err.innerText(), /app_id/);
  assert.equal(await page.getByTestId('inbox-name').inputValue(), 'Official account');
  assert.equal(await page.getByTestId('field-channel.app_secret').inputValue(), 'typed-secret');
  const list = (await api.call('GET', '/inboxes')).body.items;
  assert.equal(list.filter((i) => i.name === 'Official account').length, 0, 'nothing stored');
  await shot(page, 'inbox-error');
});

test('routing: every problem is shown next to its rule and field, and nothing is stored', async () => {
  await openRoute(page, `routing/${webInbox.id}`, 'routing-form');
  await page.getByTestId('rule-add').click();
  const first = page.locator('[data-testid="rule"]').nth(0);
  await first.getByTestId('rule-keyword-remove').click();
  await first.getByTestId('rule-regex').fill('(unclosed');
  await first.getByTestId('rule-priority-kind').selectOption('set');
  await first.getByTestId('rule-priority-value').fill('50');
  await page.getByTestId('rule-add').click();
  const second = page.locator('[data-testid="rule"]').nth(1);
  await second.getByTestId('rule-name').fill('no conditions');
  await second.getByTestId('rule-keyword-remove').click();
  await second.getByTestId('rule-team').selectOption({ index: 0 });
  await page.getByTestId('routing-save').click();

  const regexErr = errorAt(page, 'rules[0].when.regex');
  await regexErr.waitFor();
  assert.match(await regexErr.innerText(), /regular expression/);
  assert.match(await errorAt(page, 'rules[1].when').innerText(), /condition/);
  assert.equal(await first.getByTestId('rule-regex').inputValue(), '(unclosed');
  assert.equal(await second.getByTestId('rule-name').inputValue(), 'no conditions');
  const stored = (await api.call('GET', `/inboxes/${webInbox.id}/routing`)).body.routing;
  assert.deepEqual(stored.rules, []);
  await shot(page, 'routing-error');
});

test('webhooks: a refused private target names the setting that allows it; the URL stays', async () => {
  await openRoute(page, 'webhooks', 'webhooks-page');
  await page.getByTestId('webhook-new').click();
  await page.getByTestId('webhook-url').fill('http://127.0.0.1:9/hook');
  await page.getByTestId('webhook-create').click();
  assert.match(await errorAt(page, 'events').innerText(), /event/i);

  await page.getByTestId('webhook-all-events').check();
  await page.getByTestId('webhook-create').click();
  const err = errorAt(page, 'url');
  await err.waitFor();
  assert.match(await err.innerText(), /webhooks\.allow_private_targets/);
  assert.equal(await page.getByTestId('webhook-url').inputValue(), 'http://127.0.0.1:9/hook');
  assert.deepEqual((await api.call('GET', '/webhooks')).body.items, []);
  await shot(page, 'webhook-error');
});

test('deliveries: an out-of-range quota is shown at its field and the value stays', async () => {
  await openRoute(page, 'deliveries', 'rate-form');
  await page.getByTestId('rate-per_second').fill('0');
  await page.getByTestId('rate-save').click();
  const err = errorAt(page, 'per_second');
  await err.waitFor();
  assert.match(await err.innerText(), /between 1 and 100000/);
  assert.equal(await page.getByTestId('rate-per_second').inputValue(), '0');
  assert.equal((await api.call('GET', `/inboxes/${webInbox.id}/rate-limit`)).body.per_second ?? null, null);
});

const OWN = ['inboxes.', 'routing.', 'webhooks.', 'deliveries.', 'forms.', 'check.', 'warning.', 'type.'];

/** English strings of these pages that would be wrong on a Chinese screen. */
async function englishOnly(p) {
  const [en, zh] = await p.evaluate(async () => {
    const m = await import('/console/i18n.js');
    return [m.allStrings('en'), m.allStrings('zh-CN')];
  });
  // Names kept in Chinese text too (e.g. "Standard Webhooks") are not a missed translation.
  const zhText = Object.values(zh).join('\n');
  return Object.entries(en)
    .filter(([k, v]) => OWN.some((o) => k.startsWith(o)) && zh[k] && zh[k] !== v && v.length >= 4 && !v.includes('{'))
    .map(([, v]) => v)
    .filter((v) => !zhText.includes(v));
}

/** Fails when the visible page shows one of `english`. */
async function assertChinese(p, english, where) {
  const text = await p.locator('body').innerText();
  const found = english.filter((s) => text.includes(s));
  assert.deepEqual(found, [], `English text on the zh-CN ${where} page`);
  assert.match(text, /[\u4e00-\u9fff]/, `Chinese text on the ${where} page`);
}

test('zh-CN: the channel pages and their errors are in Chinese', async () => {
  // Signed in, the console follows the profile's language.
  await api.call('PATCH', '/profile', { language: 'zh-CN' });
  const zhPage = await kefu.signedInPage('zh-CN');
  const english = await englishOnly(zhPage);
  assert.ok(english.length > 50, 'the pages registered their strings');

  await openRoute(zhPage, 'inboxes', 'inboxes-page');
  await assertChinese(zhPage, english, 'inboxes');
  await openRoute(zhPage, 'inboxes/new', 'inboxes-page');
  await zhPage.getByTestId('channel-type').first().waitFor();
  await assertChinese(zhPage, english, 'channel type');
  await openRoute(zhPage, 'inboxes/new/email', 'inbox-form');
  await assertChinese(zhPage, english, 'email inbox form');
  await shot(zhPage, 'zh-inbox-email');
  await openRoute(zhPage, `inboxes/${webInbox.id}`, 'inbox-connect');
  await assertChinese(zhPage, english, 'web chat inbox');

  await openRoute(zhPage, `routing/${webInbox.id}`, 'routing-form');
  await zhPage.getByTestId('rule-add').click();
  await zhPage.locator('[data-testid="rule"]').first().getByTestId('rule-regex').fill('(');
  await zhPage.getByTestId('routing-save').click();
  await errorAt(zhPage, 'rules[0].when.regex').waitFor();
  await assertChinese(zhPage, english, 'routing');
  assert.equal(await errorAt(zhPage, 'rules[0].when.regex').innerText(), '不是有效的正则表达式。');
  await shot(zhPage, 'zh-routing');

  await openRoute(zhPage, 'webhooks', 'webhooks-page');
  await zhPage.getByTestId('webhook-new').click();
  await zhPage.getByTestId('webhook-url').fill('http://10.0.0.5/hook');
  await zhPage.getByTestId('webhook-all-events').check();
  await zhPage.getByTestId('webhook-create').click();
  const err = errorAt(zhPage, 'url');
  await err.waitFor();
  assert.match(await err.innerText(), /allow_private_targets/);
  assert.match(await err.innerText(), /内网/);
  await assertChinese(zhPage, english, 'webhooks');

  await openRoute(zhPage, 'deliveries', 'deliveries-page');
  await zhPage.getByTestId('rate-form').waitFor();
  await assertChinese(zhPage, english, 'deliveries');
  await shot(zhPage, 'zh-deliveries');
  await zhPage.context().close();
  await api.call('PATCH', '/profile', { language: 'en' });
});
