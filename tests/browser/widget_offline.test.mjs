// The widget while no agent is online: a visitor who has written to a web chat inbox with
// fallback to email is offered to leave an address (English and zh-CN); a bad address is
// refused in the widget, a good one lands on the visitor's contact, and a reload does not ask
// again. With an agent online, nobody is asked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, eventually, shot } from './support/kefu.mjs';
import { startDovecot, startSmtp, MAIL_USER, MAIL_PASSWORD } from './support/mail.mjs';

let k;
let admin;
let web;
let dovecot;
let smtp;
let me;

before(async () => {
  [k, dovecot, smtp] = await Promise.all([
    startKefu({ env: { KEFU_CHANNELS__ALLOW_PRIVATE_TARGETS: 'true' } }), startDovecot(), startSmtp(),
  ]);
  admin = await k.apiAs();
  const mail = await admin.call('POST', '/inboxes', {
    name: 'Support mail',
    channel: {
      type: 'email', address: MAIL_USER,
      imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none', username: MAIL_USER, password: MAIL_PASSWORD, mailbox: 'INBOX' },
      smtp: { host: '127.0.0.1', port: smtp.port, tls: 'none' },
    },
  });
  assert.equal(mail.status, 201, JSON.stringify(mail.body));
  web = (await admin.call('GET', '/inboxes')).body.items.find((i) => i.channel.type === 'web_chat');
  const on = await admin.call('PATCH', `/inboxes/${web.id}`, { fallback: { enabled: true, order: ['email'] } });
  assert.equal(on.status, 200, JSON.stringify(on.body));
  me = (await admin.call('GET', '/profile')).body;
  await setStatus('offline');
});
after(async () => { await Promise.all([k?.stop(), dovecot?.stop(), smtp?.stop()]); });

async function setStatus(status) {
  const r = await admin.call('PUT', `/agents/${me.id}/status`, { status });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** A visitor in `lang` writes `text`; returns the page and their conversation id. */
async function visitorWrites(lang, text) {
  const visitor = await k.newPage();
  visitor.welcomes = [];
  visitor.on('websocket', (ws) => ws.on('framereceived', (f) => {
    const v = typeof f.payload === 'string' ? JSON.parse(f.payload) : null;
    if (v && v.type === 'welcome') visitor.welcomes.push(v);
  }));
  await visitor.addInitScript((l) => { Object.defineProperty(navigator, 'language', { get: () => l }); }, lang);
  await visitor.goto(`${k.base}/`);
  await visitor.getByTestId('kefu-launcher').click();
  await visitor.getByTestId('kefu-input').fill(text);
  await visitor.getByTestId('kefu-send').click();
  await visitor.locator('[data-testid="kefu-message"][data-direction="inbound"][data-status="sent"]').first().waitFor({ timeout: 15_000 });
  const conv = await eventually(async () => {
    const list = (await admin.call('GET', `/conversations?inbox_id=${web.id}&limit=50`)).body.items || [];
    return list.find((c) => c.last_message && c.last_message.text === text)?.id;
  }, `the conversation of "${text}"`);
  return { visitor, conv };
}

test('with nobody online, a visitor leaves an email address for the reply', async () => {
  const { visitor, conv } = await visitorWrites('en', 'Where is my parcel?');
  assert.deepEqual(visitor.welcomes[0].offline, { ask_email: true });
  const card = visitor.locator('[data-testid="kefu-offline"][data-state="asking"]');
  await card.waitFor({ timeout: 15_000 });
  assert.match(await card.textContent(), /No one is online right now\. Leave your email/);
  // A bad address is refused before it leaves the page.
  await visitor.getByTestId('kefu-offline-email').fill('not-an-address');
  await visitor.getByTestId('kefu-offline-submit').click();
  await visitor.getByTestId('kefu-offline-msg').filter({ hasText: 'This does not look like an email address' }).waitFor();
  await visitor.getByTestId('kefu-offline-email').fill('vera@example.com');
  await shot(visitor, 'widget-offline-email');
  await visitor.getByTestId('kefu-offline-submit').click();
  await visitor.getByTestId('kefu-offline-msg').filter({ hasText: 'Thanks, we will send the reply to vera@example.com.' }).waitFor();
  const contact = (await admin.call('GET', `/conversations/${conv}`)).body.contact;
  assert.equal(contact.email, 'vera@example.com');

  // A reload does not ask again.
  await visitor.reload();
  await visitor.getByTestId('kefu-launcher').click();
  await visitor.locator('[data-testid="kefu-message"]').first().waitFor();
  assert.equal(await visitor.getByTestId('kefu-offline').isHidden(), true);
  await visitor.context().close();
});

test('the offer speaks Chinese to a Chinese visitor', async () => {
  const { visitor } = await visitorWrites('zh-CN', '有人在吗');
  const card = visitor.locator('[data-testid="kefu-offline"][data-state="asking"]');
  await card.waitFor({ timeout: 15_000 });
  assert.match(await card.textContent(), /现在没有客服在线。留下您的邮箱/);
  assert.equal(await visitor.getByTestId('kefu-offline-submit').textContent(), '留下邮箱');
  await visitor.getByTestId('kefu-offline-email').fill('li@example.cn');
  await visitor.getByTestId('kefu-offline-submit').click();
  await visitor.getByTestId('kefu-offline-msg').filter({ hasText: '好的，我们会把回复发送到 li@example.cn。' }).waitFor();
  await visitor.context().close();
});

test('with an agent online, nobody is asked for an address', async () => {
  await setStatus('online');
  try {
    const { visitor } = await visitorWrites('en', 'Quick question');
    // The server says nobody is offline, and the widget shows no offer.
    assert.equal(visitor.welcomes.length, 1);
    assert.equal(visitor.welcomes[0].offline, undefined, JSON.stringify(visitor.welcomes[0]));
    assert.equal(await visitor.getByTestId('kefu-offline').isHidden(), true);
    await visitor.context().close();
  } finally {
    await setStatus('offline');
  }
});
