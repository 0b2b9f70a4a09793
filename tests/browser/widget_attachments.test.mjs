// The widget beyond text: a visitor sends an image that the agent sees in the console, the
// assigned agent's name and initial (or the picture from their profile) show in the widget's
// header, "Seen" appears under the
// visitor's last message once the agent opens the thread, and bad files are explained in the
// visitor's language. Runs the real `kefu` binary (KEFU_BIN) and Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, eventually, openRoute } from './support/kefu.mjs';

/** @type {Awaited<ReturnType<typeof startKefu>>} */
let k;
before(async () => { k = await startKefu({ env: { KEFU_MAX_UPLOAD_BYTES: '20000' } }); });
after(async () => { await k?.stop(); });

// A real 1×1 PNG, so the console's <img> loads it.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** The demo page with the widget open, in `locale`. */
async function widget(locale) {
  const context = await k.browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { console.error('widget page error:', e.message); });
  await page.goto(`${k.base}/`);
  await page.getByTestId('kefu-launcher').click();
  await page.getByTestId('kefu-panel').waitFor();
  return page;
}

test('an image from the visitor reaches the console; the agent name and "Seen" reach the widget', async () => {
  const visitor = await widget('en-US');
  await visitor.getByTestId('kefu-input').fill('My order arrived broken');
  await visitor.getByTestId('kefu-send').click();
  await visitor.locator('[data-testid="kefu-message"][data-status="sent"]').first().waitFor({ timeout: 15_000 });
  await visitor.getByTestId('kefu-file-input').setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: PNG });
  const sent = visitor.locator('[data-testid="kefu-message"][data-direction="inbound"][data-status="sent"] img[alt="broken.png"]');
  await sent.waitFor({ timeout: 15_000 });
  assert.match(await sent.getAttribute('src') || '', /\/files\/\d+\/[A-Za-z0-9]{32}$/);
  const receipt = visitor.getByTestId('kefu-receipt');
  assert.equal(await receipt.getAttribute('data-state'), 'sent');
  assert.equal(await visitor.getByTestId('kefu-title').textContent(), 'Chat with us');

  // The admin takes the conversation: the widget's header shows their name and initial.
  const admin = await k.apiAs();
  const profile = await admin.call('GET', '/profile');
  const me = { body: profile.body.agent || profile.body };
  const list = await eventually(async () => {
    const r = await admin.call('GET', '/conversations');
    return r.body.items.length ? r.body.items : null;
  }, 'the visitor conversation');
  const conv = list[0];
  const assigned = await admin.call('POST', `/conversations/${conv.id}/assign`, { agent_id: me.body.id });
  assert.ok(assigned.status < 300, JSON.stringify(assigned.body));
  await eventually(async () => (await visitor.getByTestId('kefu-title').textContent()) === me.body.name, 'the agent name in the header');
  assert.equal(await visitor.getByTestId('kefu-avatar').textContent(), Array.from(me.body.name)[0]);

  // The agent opens the thread: the image shows, and the widget says "Seen".
  const agent = await k.signedInPage();
  await agent.goto(`${k.base}/console/#/c/${conv.id}`);
  const img = agent.locator('[data-testid="thread-message"][data-direction="inbound"] [data-testid="attachment"] img');
  await img.waitFor({ timeout: 15_000 });
  await eventually(async () => img.evaluate((/** @type {HTMLImageElement} */ i) => i.complete && i.naturalWidth === 1), 'the image loaded in the console');
  await eventually(async () => (await receipt.getAttribute('data-state')) === 'seen', '"Seen" in the widget');
  assert.match(await receipt.textContent() || '', /Seen/);

  // A reload keeps the agent and the receipt.
  await visitor.reload();
  await visitor.getByTestId('kefu-launcher').click();
  await eventually(async () => (await visitor.getByTestId('kefu-title').textContent()) === me.body.name, 'the agent name after a reload');
  assert.equal(await visitor.getByTestId('kefu-receipt').getAttribute('data-state'), 'seen');
  await agent.context().close();
  await visitor.context().close();
});

test('a file too large is refused in the visitor\'s language', async () => {
  for (const [locale, words] of [['en-US', 'too large'], ['zh-CN', '\u6587\u4ef6\u592a\u5927']]) {
    const visitor = await widget(locale);
    await visitor.getByTestId('kefu-input').waitFor();
    await eventually(async () => visitor.evaluate(() => {
      const s = Object.keys(localStorage).find((key) => key.startsWith('kefu:'));
      return !!(s && JSON.parse(localStorage.getItem(s) || '{}').session);
    }), 'a widget session');
    await visitor.getByTestId('kefu-file-input').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(30000, 1) });
    await visitor.locator('[data-testid="kefu-message"][data-status="failed"]').waitFor({ timeout: 15_000 });
    const notice = visitor.locator('.sys.err', { hasText: words });
    await notice.waitFor({ timeout: 15_000 });
    await visitor.context().close();
  }
});

test('the pre-chat form asks before the first message, in English and Chinese, and fills the contact', async () => {
  const admin = await k.apiAs();
  const inboxes = await admin.call('GET', '/inboxes');
  const chat = inboxes.body.items.find((/** @type {any} */ i) => i.channel.type === 'web_chat');
  const form = { enabled: true, name: 'required', email: 'optional', fields: [{ key: 'order_number', label: 'Order number', required: true }] };
  const patched = await admin.call('PATCH', `/inboxes/${chat.id}`, { channel: { pre_chat: form } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));

  for (const [locale, words] of [['en-US', { required: 'Please fill in Name.', email: 'Please enter a valid email address.', start: 'Start chat' }],
    ['zh-CN', { required: '\u8bf7\u586b\u5199\u59d3\u540d\u3002', email: '\u8bf7\u8f93\u5165\u6709\u6548\u7684\u90ae\u7bb1\u5730\u5740\u3002', start: '\u5f00\u59cb\u804a\u5929' }]]) {
    const visitor = await widget(locale);
    const pre = visitor.getByTestId('kefu-prechat');
    await pre.waitFor({ timeout: 15_000 });
    assert.equal(await visitor.getByTestId('kefu-input').isVisible(), false, 'no composer before the form');
    assert.equal(await visitor.getByTestId('kefu-prechat-submit').textContent(), words.start);
    // Nothing filled in: the required fields say so; a bad email too.
    await visitor.getByTestId('kefu-prechat-email').fill('not-an-address');
    await visitor.getByTestId('kefu-prechat-submit').click();
    const errors = visitor.getByTestId('kefu-prechat-error');
    await errors.first().waitFor();
    const texts = await errors.allTextContents();
    assert.ok(texts.includes(words.required), texts.join(' | '));
    assert.ok(texts.includes(words.email), texts.join(' | '));
    assert.equal(texts.length, 3, 'name, email and the order number');

    const name = locale === 'zh-CN' ? '\u674e\u96f7' : 'Ann Lee';
    await visitor.getByTestId('kefu-prechat-name').fill(name);
    await visitor.getByTestId('kefu-prechat-email').fill(`${locale}@example.com`);
    await visitor.getByTestId('kefu-prechat-order_number').fill(`A-${locale}`);
    await visitor.getByTestId('kefu-prechat-submit').click();
    await visitor.getByTestId('kefu-input').waitFor({ state: 'visible', timeout: 15_000 });
    await visitor.getByTestId('kefu-input').fill('Where is my order?');
    await visitor.getByTestId('kefu-send').click();
    await visitor.locator('[data-testid="kefu-message"][data-direction="inbound"][data-status="sent"]').waitFor({ timeout: 15_000 });

    const contact = await eventually(async () => {
      const r = await admin.call('GET', '/conversations');
      const c = (r.body.items || []).find((/** @type {any} */ x) => x.contact && x.contact.email === `${locale}@example.com`);
      return c && (await admin.call('GET', `/contacts/${c.contact.id}`)).body;
    }, 'the contact with the pre-chat answers');
    assert.equal(contact.name, name);
    assert.equal(contact.attributes.order_number, `A-${locale}`);
    await visitor.context().close();
  }
});

test('an admin sets the pre-chat form in the inbox settings', async () => {
  const admin = await k.apiAs();
  const inbox = (await admin.call('POST', '/inboxes', { name: 'Pre-chat web', channel: { type: 'web_chat' } })).body;
  const page = await k.signedInPage();
  await openRoute(page, `inboxes/${inbox.id}`, 'inbox-form');
  const toggle = page.getByTestId('toggle-channel.pre_chat');
  if (await toggle.count()) await toggle.check();
  await page.getByTestId('field-channel.pre_chat.enabled').check();
  await page.getByTestId('field-channel.pre_chat.name').selectOption({ label: 'Asked and required.' });
  await page.getByTestId('field-channel.pre_chat.fields').fill('[{"key": "order_number", "label": "Order number", "required": true}]');
  await page.getByTestId('inbox-save').click();
  const saved = await eventually(async () => {
    const c = (await admin.call('GET', `/inboxes/${inbox.id}`)).body.channel;
    return c.pre_chat && c.pre_chat.enabled ? c.pre_chat : null;
  }, 'the saved pre-chat form');
  assert.equal(saved.name, 'required');
  assert.deepEqual(saved.fields, [{ key: 'order_number', label: 'Order number', required: true }]);
  await page.context().close();
});

test('the picture an agent sets on their profile shows in the console and the widget header', async () => {
  const agent = await k.signedInPage();
  await agent.goto(`${k.base}/console/#/settings/profile`);
  await agent.getByTestId('profile-picture').waitFor();
  await agent.getByTestId('profile-picture-input').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG });
  // The header's avatar becomes the picture.
  const head = agent.getByTestId('open-profile').getByTestId('avatar-img');
  await head.waitFor();
  await eventually(async () => head.evaluate((/** @type {HTMLImageElement} */ i) => i.complete && i.naturalWidth === 1), 'the picture loaded in the header');
  const admin = await k.apiAs();
  const url = (await admin.call('GET', '/profile')).body.avatar_url;
  assert.match(url || '', /^\/files\/\d+\/[A-Za-z0-9]{32}$/);
  // A file that is not an image is refused, naming the field.
  const form = new FormData();
  form.append('file', new Blob(['plain text'], { type: 'text/plain' }), 'notes.txt');
  const up = await fetch(`${k.base}/api/v1/attachments`, { method: 'POST', headers: { Authorization: `Bearer ${admin.token}` }, body: form });
  const bad = await admin.call('PUT', '/profile/avatar', { attachment_id: (await up.json()).id });
  assert.equal(bad.status, 422, JSON.stringify(bad.body));
  assert.equal(bad.body.field, 'attachment_id');

  // A visitor whose conversation the agent takes sees the picture in the header (with the
  // pre-chat form an earlier test turned on off again).
  const chat = (await admin.call('GET', '/inboxes')).body.items.find((/** @type {any} */ i) => i.channel.type === 'web_chat');
  const off = await admin.call('PATCH', `/inboxes/${chat.id}`, { channel: { pre_chat: { enabled: false } } });
  assert.equal(off.status, 200, JSON.stringify(off.body));
  const visitor = await widget('en-US');
  await visitor.getByTestId('kefu-input').fill('Hello, anyone there?');
  await visitor.getByTestId('kefu-send').click();
  await visitor.locator('[data-testid="kefu-message"][data-status="sent"]').first().waitFor({ timeout: 15_000 });
  const conv = await eventually(async () => {
    const r = await admin.call('GET', '/conversations?status=queued');
    return r.body.items.find((c) => c.last_message && c.last_message.text === 'Hello, anyone there?') || null;
  }, 'the visitor conversation');
  const me = (await admin.call('GET', '/profile')).body;
  assert.ok((await admin.call('POST', `/conversations/${conv.id}/assign`, { agent_id: me.id })).status < 300);
  const pic = visitor.getByTestId('kefu-avatar-img');
  await pic.waitFor();
  assert.equal(await pic.getAttribute('src'), `${k.base}${url}`);
  await eventually(async () => pic.evaluate((/** @type {HTMLImageElement} */ i) => i.complete && i.naturalWidth === 1), 'the picture loaded in the widget');

  // Removed, the initial comes back in the console.
  await agent.getByTestId('profile-picture-remove').click();
  await head.waitFor({ state: 'detached' });
  assert.equal((await admin.call('GET', '/profile')).body.avatar_url, null);
  await agent.context().close();
  await visitor.context().close();
});
