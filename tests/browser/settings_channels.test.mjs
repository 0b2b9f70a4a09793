// The channel settings pages of the console, driven as an admin would: a WeChat inbox created
// through its form shows the callback URL, the token and the `public_url` warning; a routing
// rule is added and tried; a webhook subscribed to a local receiver shows a delivery in its log
// after a visitor writes through the widget preview; the send quota is saved. Runs the real
// `kefu` binary (KEFU_BIN) with private webhook targets allowed (the receiver is on loopback).
import { test, before, after } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { startKefu, openRoute, recorder, eventually, shot } from './support/kefu.mjs';

let kefu, page, receiver, wechatApi, fcm;

before(async () => {
  kefu = await startKefu({ env: { KEFU_WEBHOOKS__ALLOW_PRIVATE_TARGETS: 'true', KEFU_CHANNELS__ALLOW_PRIVATE_TARGETS: 'true' } });
  page = await kefu.signedInPage();
  receiver = await recorder();
  // A stand-in for Google: an OAuth token for the service account, and FCM's send endpoint,
  // which refuses one device token as unregistered.
  fcm = await recorder((req, body) => {
    if (req.url === '/token') return { status: 200, type: 'application/json', body: JSON.stringify({ access_token: 'ya29.test', expires_in: 3599, token_type: 'Bearer' }) };
    if (body.includes('stale-device')) {
      return { status: 404, type: 'application/json', body: JSON.stringify({ error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }] } }) };
    }
    return { status: 200, type: 'application/json', body: JSON.stringify({ name: 'projects/kefu-test/messages/1' }) };
  });
  // A stand-in for the WeChat API: an access token for the right secret, errcode 40125 else.
  wechatApi = await recorder((req) => {
    const q = new URL(req.url, 'http://x').searchParams;
    const body = q.get('secret') === 'app-secret-value'
      ? { access_token: 'ACCESS_TOKEN_FROM_TEST', expires_in: 7200 }
      : { errcode: 40125, errmsg: 'invalid appsecret' };
    return { status: 200, type: 'application/json', body: JSON.stringify(body) };
  });
});

after(async () => {
  await kefu?.stop();
  await receiver?.close();
  await wechatApi?.close();
  await fcm?.close();
});

/** Picks a channel type on the "new inbox" page and names the inbox. */
async function startInbox(type, name) {
  await openRoute(page, 'inboxes', 'inboxes-page');
  await page.getByTestId('inbox-new').click();
  await page.locator(`[data-testid="channel-type"][data-type="${type}"]`).click();
  await page.locator(`[data-testid="inbox-form"][data-type="${type}"]`).waitFor();
  await page.getByTestId('inbox-name').fill(name);
}

test('a WeChat inbox created through the form shows its callback URL, token and the public_url warning', async () => {
  await startInbox('wechat', 'WeChat support');
  await page.getByTestId('field-channel.app_id').fill('wx0123456789abcdef');
  await page.getByTestId('field-channel.app_secret').fill('app-secret-value');
  await page.getByTestId('field-channel.token').fill('callbacktoken42');
  await page.getByTestId('field-channel.encoding_aes_key').fill('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG');
  await page.getByTestId('field-channel.api_base').fill(wechatApi.url);
  await page.getByTestId('inbox-save').click();

  const url = page.getByTestId('callback-url');
  await url.waitFor();
  assert.match(await url.inputValue(), /^http:\/\/127\.0\.0\.1:\d+\/channels\/wechat\/\d+$/);
  assert.equal(await page.getByTestId('callback-token').inputValue(), 'callbacktoken42');
  const warning = page.locator('[data-testid="inbox-warning"][data-code="public_url_not_public"]');
  assert.match(await warning.innerText(), /public_url/);
  // The secret is write-only: the form shows it is set, never its value.
  const secret = page.getByTestId('field-channel.app_secret');
  assert.equal(await secret.inputValue(), '');
  assert.equal(await page.locator('[data-field="channel.app_secret"] [data-testid="secret-set"]').count(), 1);

  // "Test credentials" asks the provider for an access token and shows its answer.
  await page.getByTestId('inbox-test').click();
  const check = page.locator('[data-testid="test-check"][data-name="access_token"]');
  await check.waitFor();
  assert.equal(await check.getAttribute('data-ok'), 'true');
  assert.ok(wechatApi.requests.some((r) => r.url.startsWith('/cgi-bin/token') && r.url.includes('appid=wx0123456789abcdef')));
  await shot(page, 'inbox-wechat');

  // A wrong secret, typed again to replace the stored one: the provider's refusal is shown.
  await page.getByTestId('field-channel.app_secret').fill('wrong-secret');
  await page.getByTestId('inbox-save').click();
  await check.waitFor({ state: 'detached' }); // saved: the page shows the stored inbox again
  await page.getByTestId('inbox-test').click();
  const failed = page.locator('[data-testid="test-check"][data-name="access_token"][data-ok="false"]');
  await failed.waitFor();
  assert.match(await failed.innerText(), /40125|invalid appsecret/);
});

test('a routing rule is added, saved and tried', async () => {
  const { call } = await kefu.apiAs();
  const inbox = (await call('POST', '/inboxes', { name: 'Routing web', channel: { type: 'web_chat' } })).body;
  await openRoute(page, `routing/${inbox.id}`, 'routing-form');
  await page.getByTestId('rule-add').click();
  const rule = page.locator('[data-testid="rule"]').last();
  await rule.getByTestId('rule-name').fill('refunds');
  await rule.getByTestId('rule-keyword-item').first().fill('refund');
  await rule.getByTestId('rule-skill-add').click();
  await rule.getByTestId('rule-skill-name').fill('billing');
  await rule.getByTestId('rule-skill-level').fill('3');
  await rule.getByTestId('rule-priority-kind').selectOption('raise');
  await rule.getByTestId('rule-priority-value').fill('5');

  // Tried before saving: the unsaved rule is what counts.
  await page.getByTestId('try-text').fill('I want a refund for order 1234');
  await page.getByTestId('try-run').click();
  await page.locator('[data-testid="try-rule"][data-matched="true"]').waitFor();
  assert.match(await page.getByTestId('try-skills').innerText(), /billing ≥ 3/);
  assert.equal(await page.getByTestId('try-priority').innerText(), '5');

  await page.getByTestId('try-text').fill('Where is my parcel?');
  await page.getByTestId('try-run').click();
  await page.locator('[data-testid="try-rule"][data-matched="false"]').waitFor();

  await page.getByTestId('routing-save').click();
  await eventually(async () => {
    const stored = (await call('GET', `/inboxes/${inbox.id}/routing`)).body.routing;
    return stored.rules.length === 1 && stored.rules[0].name === 'refunds' ? stored : null;
  }, 'the saved rule');
  const stored = (await call('GET', `/inboxes/${inbox.id}/routing`)).body.routing;
  assert.deepEqual(stored.rules[0].when.keywords, ['refund']);
  assert.deepEqual(stored.rules[0].then, { skills: { billing: 3 }, priority: { raise: 5 } });
  await shot(page, 'routing');
});

test('a webhook subscribed to a local receiver shows a delivery after a visitor writes through the widget', async () => {
  await openRoute(page, 'webhooks', 'webhooks-page');
  await page.getByTestId('webhook-new').click();
  await page.getByTestId('webhook-url').fill(`${receiver.url}/hook`);
  await page.locator('[data-testid="webhook-event"][data-event="message.created"]').check();
  await page.getByTestId('webhook-create').click();
  const secret = page.getByTestId('webhook-secret');
  await secret.waitFor();
  assert.match(await secret.inputValue(), /^whsec_/);
  await page.getByTestId('webhook-secret-done').click();
  await shot(page, 'webhooks');

  // A web chat inbox made through the form; its preview is the real widget.
  await startInbox('web_chat', 'Website');
  await page.getByTestId('inbox-save').click();
  await page.getByTestId('widget-snippet').waitFor();
  assert.match(await page.getByTestId('widget-snippet').inputValue(), /<script src="http:\/\/127\.0\.0\.1:\d+\/widget\.js" data-website-token="[^"]+"><\/script>/);
  await page.getByTestId('widget-preview-toggle').click();
  await page.getByTestId('widget-preview').scrollIntoViewIfNeeded();
  const widget = page.frameLocator('[data-testid="widget-preview"]');
  await widget.getByTestId('kefu-launcher').click();
  await widget.getByTestId('kefu-input').fill('Hello from the preview');
  await widget.getByTestId('kefu-send').click();
  await widget.locator('[data-testid="kefu-message"][data-status="sent"]').first().waitFor({ timeout: 15_000 });

  const hit = await eventually(() => receiver.requests.find((r) => r.body.includes('Hello from the preview')), 'the webhook delivery');
  assert.equal(JSON.parse(hit.body).type, 'message.created');

  await openRoute(page, 'webhooks', 'webhooks-page');
  await page.getByTestId('webhook-log-toggle').first().click();
  const row = page.locator('[data-testid="webhook-delivery"][data-event="message.created"][data-status="succeeded"]').first();
  await eventually(async () => {
    if (await row.count()) return true;
    await page.getByTestId('webhook-log-refresh').click();
    return false;
  }, 'a succeeded delivery in the log');
  assert.equal(await row.getByTestId('webhook-delivery-code').innerText(), '200');
  assert.match(await row.getByTestId('webhook-delivery-latency').innerText(), /^\d+ ms$/);
  assert.equal(await row.getByTestId('webhook-delivery-response').innerText(), 'ok');
  await shot(page, 'webhook-log');
});

test('the send quota of an inbox is saved from the deliveries page', async () => {
  await openRoute(page, 'deliveries', 'rate-form');
  await page.getByTestId('rate-per_second').fill('5');
  await page.getByTestId('rate-burst').fill('10');
  await page.getByTestId('rate-save').click();
  const { call } = await kefu.apiAs();
  const inboxId = await page.getByTestId('rate-inbox').inputValue();
  const stored = await eventually(async () => {
    const r = (await call('GET', `/inboxes/${inboxId}/rate-limit`)).body;
    return r.per_second === 5 ? r : null;
  }, 'the saved quota');
  assert.equal(stored.burst, 10);
  await shot(page, 'deliveries');
});

test('an app push inbox sends a test push to a device token and shows FCM\'s answer', async () => {
  const account = JSON.parse(readFileSync(new URL('../../channels/push/fixtures/TEST-ONLY-service-account.json', import.meta.url), 'utf8'));
  account.token_uri = `${fcm.url}/token`;
  await startInbox('app_push', 'Mobile app');
  await page.getByTestId('field-channel.app_secret').fill('app-secret-for-tests-0123456789');
  await page.getByTestId('toggle-channel.fcm').check();
  await page.getByTestId('field-channel.fcm.project_id').fill('kefu-test');
  await page.getByTestId('field-channel.fcm.service_account_json').fill(JSON.stringify(account));
  await page.getByTestId('field-channel.fcm.api_base').fill(fcm.url);
  await page.getByTestId('inbox-save').click();
  await page.getByTestId('inbox-test-panel').waitFor();
  // Write-only: stored secrets show a badge, never their value.
  assert.equal(await page.getByTestId('field-channel.fcm.service_account_json').inputValue(), '');

  const device = `fcm1:APA91bH-${'x'.repeat(140)}`;
  await page.getByTestId('test-device-token').fill(device);
  await page.getByTestId('test-platform').selectOption('fcm');
  await page.getByTestId('inbox-test').click();
  await page.locator('[data-testid="test-checks"][data-ok="true"]').waitFor();
  assert.ok(fcm.requests.some((r) => r.url.endsWith('/messages:send') && r.body.includes(device)), 'FCM got the push');

  await page.getByTestId('test-device-token').fill(`stale-device-${'y'.repeat(140)}`);
  await page.getByTestId('inbox-test').click();
  const failed = page.locator('[data-testid="test-checks"][data-ok="false"]');
  await failed.waitFor();
  assert.match(await failed.innerText(), /UNREGISTERED/);
  await shot(page, 'inbox-push');
});
