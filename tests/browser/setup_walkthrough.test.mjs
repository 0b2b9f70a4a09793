// The whole setup of a fresh Kefu, through the console only, as a new support team would do it
// (issue 16, "Acceptance"): sign in with the password the first start prints and change it;
// an agent with skills and a team; a WeChat inbox (callback URL, token, `public_url` warning);
// an email inbox against a real Dovecot and a real SMTP server with a green "test connection";
// a routing rule, tried; a webhook to a local receiver with its delivery log; an API token used
// from the test; the invited agent sets a password in a second browser, goes online and gets
// the conversation the rule routes to them. The API is used only with the console-made token and
// to play the outside world (a receiver, the mail servers, the visitor is the real widget).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, recorder, eventually, shot } from './support/kefu.mjs';
import { startDovecot, startSmtp, MAIL_USER, MAIL_PASSWORD } from './support/mail.mjs';

let kefu, admin, receiver, dovecot, smtp;
/** What the steps hand on to later steps. */
const walk = { password: '', invite: '', apiToken: '', carolId: '' };
const NEW_PASSWORD = 'our-own-admin-password';

before(async () => {
  // No bootstrap admin configured: the first start creates one and prints its password. The
  // receiver and the mail servers are on loopback, which the defaults refuse.
  [kefu, receiver, dovecot, smtp] = await Promise.all([
    startKefu({ bootstrap: false, env: { KEFU_WEBHOOKS__ALLOW_PRIVATE_TARGETS: 'true', KEFU_CHANNELS__ALLOW_PRIVATE_TARGETS: 'true' } }),
    recorder(),
    startDovecot(),
    startSmtp(),
  ]);
  admin = await kefu.newPage({ height: 900 });
});

after(async () => {
  await kefu?.stop();
  await Promise.all([receiver?.close(), dovecot?.stop(), smtp?.stop()]);
});

test('1. the admin signs in with the printed password and changes it', async () => {
  const printed = await eventually(() => kefu.output().match(/created admin (\S+) with password (\S+)/), 'the first-start banner');
  const [, email, password] = printed;
  assert.equal(email, 'admin@localhost');
  await kefu.login(admin, email, password);
  await openSettings(admin, 'profile');
  await admin.getByTestId('password-current').fill(password);
  await admin.getByTestId('password-new').fill(NEW_PASSWORD);
  await admin.getByTestId('password-confirm').fill(NEW_PASSWORD);
  await admin.getByTestId('password-save').click();
  await admin.locator('.toast.info', { hasText: 'Password changed' }).waitFor();
  // Only the new password signs in now.
  assert.equal((await kefu.api('POST', '/auth/login', { body: { email, password } })).status, 401);
  assert.equal((await kefu.api('POST', '/auth/login', { body: { email, password: NEW_PASSWORD } })).status, 200);
  // The console session survived the change.
  await admin.getByTestId('logout').waitFor();
});

test('2. a team, and an agent with skills in it, invited with a one-time link', async () => {
  await openSettings(admin, 'teams');
  await admin.getByTestId('team-new-name').fill('Billing');
  await admin.getByTestId('team-create').click();
  await admin.locator('[data-testid="team-card"][data-name="Billing"]').waitFor();

  await openSettings(admin, 'agents');
  await admin.getByTestId('agent-add').click();
  await admin.getByTestId('agent-email').fill('carol@example.com');
  await admin.getByTestId('agent-name').fill('Carol');
  await admin.getByTestId('agent-max').fill('4');
  await admin.getByTestId('skill-add').click();
  await admin.getByTestId('skill-name').fill('billing');
  await admin.getByTestId('skill-level').selectOption('7');
  await admin.locator('[data-testid^="agent-team-"]').first().check();
  await admin.getByTestId('agent-submit').click();
  walk.invite = await admin.getByTestId('invite-url').inputValue();
  assert.match(walk.invite, /\/console\/#\/invite\/.+/);
  await admin.getByTestId('invite-done').click();
  const row = admin.locator('[data-testid="agent-row"][data-email="carol@example.com"]');
  await row.waitFor();
  assert.match(await row.innerText(), /billing · 7/);
  assert.match(await row.innerText(), /Billing/);
  walk.carolId = await row.getAttribute('data-id');
});

/** Starts a new inbox of `type` from the inboxes page and names it. */
async function newInbox(type, name) {
  await openSettings(admin, 'inboxes');
  await admin.getByTestId('inbox-new').click();
  await admin.locator(`[data-testid="channel-type"][data-type="${type}"]`).click();
  await admin.locator(`[data-testid="inbox-form"][data-type="${type}"]`).waitFor();
  await admin.getByTestId('inbox-name').fill(name);
}

test('3. a WeChat inbox shows its callback URL and token, and warns about a loopback public_url', async () => {
  await newInbox('wechat', 'WeChat');
  await admin.getByTestId('field-channel.app_id').fill('wx0123456789abcdef');
  await admin.getByTestId('field-channel.app_secret').fill('app-secret-value');
  await admin.getByTestId('field-channel.token').fill('callbacktoken42');
  await admin.getByTestId('field-channel.encoding_aes_key').fill('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG');
  await admin.getByTestId('inbox-save').click();
  await admin.getByTestId('callback-url').waitFor();
  assert.match(await admin.getByTestId('callback-url').inputValue(), /^http:\/\/127\.0\.0\.1:\d+\/channels\/wechat\/\d+$/);
  assert.equal(await admin.getByTestId('callback-token').inputValue(), 'callbacktoken42');
  const warning = admin.locator('[data-testid="inbox-warning"][data-code="public_url_not_public"]');
  assert.match(await warning.innerText(), /public_url/);
  await shot(admin, 'walk-wechat');
});

/** Picks "no encryption" (plain servers on loopback) in the TLS mode of `server`. */
async function noTls(server) {
  const select = admin.getByTestId(`field-channel.${server}.tls`);
  await select.selectOption(await select.locator('option', { hasText: /No encryption/ }).getAttribute('value'));
}

test('4. an email inbox against Dovecot and an SMTP server passes "test connection"', async () => {
  await newInbox('email', 'Email');
  const fill = (path, value) => admin.getByTestId(`field-channel.${path}`).fill(String(value));
  await fill('address', MAIL_USER);
  await fill('imap.host', '127.0.0.1');
  await fill('imap.port', dovecot.port);
  await noTls('imap');
  await fill('imap.username', MAIL_USER);
  await fill('imap.password', MAIL_PASSWORD);
  await fill('smtp.host', '127.0.0.1');
  await fill('smtp.port', smtp.port);
  await noTls('smtp');
  await admin.getByTestId('inbox-save').click();
  await admin.getByTestId('inbox-test').click();
  const checks = admin.getByTestId('test-checks');
  await checks.waitFor({ timeout: 20_000 });
  for (const name of ['imap', 'smtp']) {
    const check = admin.locator(`[data-testid="test-check"][data-name="${name}"]`);
    assert.equal(await check.getAttribute('data-ok'), 'true', `${name}: ${await check.innerText()}`);
  }
  assert.equal(await checks.getAttribute('data-ok'), 'true');
  assert.match(await admin.locator('[data-testid="test-check"][data-name="imap"]').innerText(), /logged in as support@kefu\.test/);
  await shot(admin, 'walk-email');
});

/** The row of the inbox called `name` on the inboxes page. */
async function inboxRow(name) {
  await openSettings(admin, 'inboxes');
  return admin.locator('[data-testid="inbox-row"]').filter({ has: admin.locator('.title', { hasText: new RegExp(`^${name} `) }) });
}

test('5. a web chat inbox gets a routing rule, tried before it is saved', async () => {
  // A fresh start has a "Website" inbox for the demo page; the shop gets one of its own.
  await newInbox('web_chat', 'Shop');
  await admin.getByTestId('inbox-save').click();
  await admin.getByTestId('widget-snippet').waitFor();
  await (await inboxRow('Shop')).getByTestId('inbox-routing').click();
  await admin.getByTestId('routing-form').waitFor();
  assert.match(await admin.locator('[data-testid="routing-inbox"] option:checked').innerText(), /^Shop /);
  await admin.getByTestId('rule-add').click();
  const rule = admin.locator('[data-testid="rule"]').last();
  await rule.getByTestId('rule-name').fill('refunds');
  await rule.getByTestId('rule-keyword-item').first().fill('refund');
  await rule.getByTestId('rule-skill-add').click();
  await rule.getByTestId('rule-skill-name').fill('billing');
  await rule.getByTestId('rule-skill-level').fill('5');

  await admin.getByTestId('try-text').fill('I want a refund for order 1234');
  await admin.getByTestId('try-run').click();
  await admin.locator('[data-testid="try-rule"][data-matched="true"]').waitFor();
  assert.match(await admin.getByTestId('try-skills').innerText(), /billing ≥ 5/);
  await admin.getByTestId('routing-save').click();
  await admin.locator('.toast', { hasText: /saved/i }).first().waitFor();
  await shot(admin, 'walk-routing');
});

test('6. a webhook is subscribed to a local receiver; its secret is shown once', async () => {
  await openSettings(admin, 'webhooks');
  await admin.getByTestId('webhook-new').click();
  await admin.getByTestId('webhook-url').fill(`${receiver.url}/hook`);
  await admin.locator('[data-testid="webhook-event"][data-event="message.created"]').check();
  await admin.getByTestId('webhook-create').click();
  assert.match(await admin.getByTestId('webhook-secret').inputValue(), /^whsec_/);
  await admin.getByTestId('webhook-secret-done').click();
});

test('7. an API token made in the console works from outside', async () => {
  await openSettings(admin, 'tokens');
  await admin.getByTestId('token-name').fill('Walk-through');
  await admin.getByTestId('token-create').click();
  walk.apiToken = await admin.getByTestId('token-value').inputValue();
  await admin.getByTestId('token-done').click();
  await admin.locator('[data-testid="token-row"][data-name="Walk-through"]').waitFor();
  const me = await kefu.api('GET', '/profile', { token: walk.apiToken });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.equal(me.body.email, 'admin@localhost');
  const inboxes = await kefu.api('GET', '/inboxes', { token: walk.apiToken });
  assert.deepEqual(inboxes.body.items.map((i) => i.name).sort(), ['Email', 'Shop', 'WeChat', 'Website']);
});

test('8. the invited agent sets a password, goes online and gets the conversation the rule routes', async () => {
  const carol = await kefu.newPage();
  await carol.goto(walk.invite);
  await carol.getByTestId('invite-password').fill('carols-password');
  await carol.getByTestId('invite-confirm').fill('carols-password');
  await carol.getByTestId('invite-submit').click();
  await carol.getByTestId('logout').waitFor();
  await carol.getByTestId('status-online').click();
  await carol.locator('[data-testid="status-online"][aria-pressed="true"]').waitFor();
  await eventually(async () => {
    const a = await kefu.api('GET', `/agents/${walk.carolId}`, { token: walk.apiToken });
    return a.body && a.body.status === 'online';
  }, 'Carol online on the server');

  // A visitor writes through the real widget (the inbox's live preview) a text the rule matches.
  await (await inboxRow('Shop')).getByTestId('inbox-edit').click();
  await admin.getByTestId('widget-preview-toggle').click();
  const widget = admin.frameLocator('[data-testid="widget-preview"]');
  await widget.getByTestId('kefu-launcher').click();
  await widget.getByTestId('kefu-input').fill('Hello, I need a refund for order 1234');
  await widget.getByTestId('kefu-send').click();
  await widget.locator('[data-testid="kefu-message"][data-status="sent"]').first().waitFor({ timeout: 15_000 });

  // The server assigns it to Carol, the only online agent with the skill; her console shows it.
  let seen = null;
  const conv = await eventually(async () => {
    seen = (await kefu.api('GET', '/conversations', { token: walk.apiToken })).body;
    return (seen.items || []).find((c) => String(c.assignee_id) === String(walk.carolId));
  }, 'the conversation assigned to Carol').catch((e) => { throw new Error(`${e.message}; conversations: ${JSON.stringify(seen)}`); });
  await carol.getByTestId('tab-mine').click();
  const item = carol.locator(`[data-testid="conv-item"][data-id="${conv.id}"]`);
  await item.click();
  await carol.locator('[data-testid="thread-message"][data-direction="inbound"]', { hasText: 'refund for order 1234' }).waitFor();
  await shot(carol, 'walk-agent');

  // The webhook's delivery log in the console shows the visitor's message delivered.
  const hit = await eventually(() => receiver.requests.find((r) => r.body.includes('refund for order 1234')), 'the webhook delivery');
  assert.equal(JSON.parse(hit.body).type, 'message.created');
  await openSettings(admin, 'webhooks');
  await admin.getByTestId('webhook-log-toggle').first().click();
  const delivered = admin.locator('[data-testid="webhook-delivery"][data-event="message.created"][data-status="succeeded"]').first();
  await eventually(async () => {
    if (await delivered.count()) return true;
    await admin.getByTestId('webhook-log-refresh').click();
    return false;
  }, 'a succeeded delivery in the log');
  assert.equal(await delivered.getByTestId('webhook-delivery-code').innerText(), '200');
  await shot(admin, 'walk-webhook-log');
  await carol.context().close();
});
