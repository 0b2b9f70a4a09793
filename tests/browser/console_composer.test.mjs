// The reply box and the thread as an agent works in them: a draft kept per conversation and
// across a reload; a pasted image uploaded and sent; emoji; keyboard shortcuts with their help
// overlay (in Chinese too); and a thread that opens at the newest message and stays there as
// images load, unless the agent has scrolled up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, eventually } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-composer-tests-01';

let k;
let admin;
let inbox;
const conv = {};
let sent = 0;

/** A customer message through the app channel's API; resolves to the conversation id. */
async function customer(externalId, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update(externalId).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: externalId, user_hash, client_id: `${externalId}-${++sent}`, text, name: externalId }),
  });
  const body = await res.json();
  assert.ok(res.ok, JSON.stringify(body));
  return body.conversation_id;
}

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  inbox = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(inbox.id, JSON.stringify(inbox));
  conv.anna = await customer('anna', 'Hi, my parcel is late');
  conv.ben = await customer('ben', 'Can I change my address?');
  for (let i = 0; i < 40; i++) conv.long = await customer('carl', `Message number ${i} about my order`);
});
after(async () => { await k?.stop(); });

const open = (page, id) => page.goto(`${k.base}/console/#/c/${id}`);
const input = (page) => page.getByTestId('reply-input');

/** How far the message list is from its bottom, in pixels. */
const fromBottom = (page) => page.getByTestId('thread-messages')
  .evaluate((l) => l.scrollHeight - l.scrollTop - l.clientHeight);

test('a draft is kept per conversation, across switching and a reload, and cleared by sending', async () => {
  const page = await k.signedInPage();
  await open(page, conv.anna);
  await input(page).fill('Sorry about the delay, ');
  await open(page, conv.ben);
  await input(page).waitFor();
  assert.equal(await input(page).inputValue(), '', 'each conversation has its own');
  await input(page).fill('Yes, which address?');
  await open(page, conv.anna);
  await eventually(async () => (await input(page).inputValue()) === 'Sorry about the delay, ', 'the first draft back');
  await page.reload();
  await eventually(async () => (await input(page).inputValue()) === 'Sorry about the delay, ', 'the draft after a reload');
  await input(page).press('End');
  await input(page).pressSequentially('it ships today.');
  await input(page).press('Enter');
  await page.getByTestId('thread-message').filter({ hasText: 'Sorry about the delay, it ships today.' }).waitFor();
  await page.reload();
  await input(page).waitFor();
  assert.equal(await input(page).inputValue(), '', 'sent drafts are gone');
  await page.context().close();
});

test('a pasted image is uploaded and sent; emoji go in at the caret', async () => {
  const page = await k.signedInPage();
  await open(page, conv.ben);
  await input(page).fill('Here is the form ');
  await page.getByTestId('emoji-toggle').click();
  await page.getByTestId('emoji').filter({ hasText: '👍' }).click();
  assert.equal(await input(page).inputValue(), 'Here is the form 👍');
  assert.equal(await page.getByTestId('emoji-grid').isVisible(), false, 'the grid closes');
  // Paste a 200×400 PNG drawn on a canvas, as a screenshot tool would put it on the clipboard.
  await input(page).evaluate(async (el) => {
    const c = document.createElement('canvas');
    c.width = 200; c.height = 400;
    const g = c.getContext('2d');
    g.fillStyle = '#4f46e5'; g.fillRect(0, 0, 200, 400);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], 'screenshot.png', { type: 'image/png' }));
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await page.locator('[data-testid="reply-file"][data-state="ready"]').filter({ hasText: 'screenshot.png' }).waitFor();
  await page.getByTestId('reply-send').click();
  const sent = page.getByTestId('thread-message').filter({ hasText: 'Here is the form 👍' });
  await sent.locator('img').waitFor();
  await eventually(async () => (await sent.locator('img').evaluate((i) => i.complete && i.naturalHeight)) === 400, 'the image loaded');
  const stored = await admin.call('GET', `/conversations/${conv.ben}/messages`);
  const last = stored.body.items.at(-1);
  assert.equal(last.content.attachments[0].mime, 'image/png', JSON.stringify(last));
  await page.context().close();
});

test('a thread opens at the newest message and stays there as images load, unless scrolled up', async () => {
  const page = await k.newPage({ height: 700 });
  await k.login(page);
  await open(page, conv.long);
  await page.getByTestId('thread-message').filter({ hasText: 'Message number 39' }).waitFor();
  // An agent sends a tall image: the list follows it once it has loaded.
  await input(page).evaluate(async (el) => {
    const c = document.createElement('canvas');
    c.width = 200; c.height = 600;
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], 'tall.png', { type: 'image/png' }));
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await page.locator('[data-testid="reply-file"][data-state="ready"]').waitFor();
  await page.getByTestId('reply-send').click();
  await eventually(async () => (await fromBottom(page)) < 2, 'the bottom after the image loaded');

  // Opened afresh, with the image above the newest message, it still ends at the bottom.
  await page.reload();
  // (An image has no size until it has loaded, so wait for it to be there, not visible.)
  await page.getByTestId('thread-message').locator('img').waitFor({ state: 'attached' });
  await eventually(async () => (await fromBottom(page)) < 2, 'the bottom on opening');

  // Scrolled up, a new message does not pull the agent down.
  await page.getByTestId('thread-messages').evaluate((l) => { l.scrollTop = 0; });
  await eventually(async () => (await fromBottom(page)) > 200, 'scrolled up');
  await customer('carl', 'One more thing');
  await page.getByTestId('thread-message').filter({ hasText: 'One more thing' }).waitFor();
  assert.equal(await page.getByTestId('thread-messages').evaluate((l) => l.scrollTop), 0);
  await page.context().close();
});

test('keyboard shortcuts move, assign, resolve and search; ? lists them, in Chinese too', async () => {
  const page = await k.signedInPage('zh-CN');
  await open(page, conv.anna);
  await input(page).waitFor();
  await page.locator('body').click();
  await page.keyboard.press('?');
  const help = page.getByTestId('shortcuts-help');
  await help.waitFor();
  assert.match(await help.innerText(), /键盘快捷键[\s\S]*下一个会话[\s\S]*分配给我/);
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });

  // J opens the next row of the list, K the one before.
  await page.getByTestId('tab-open').click();
  const ids = await page.locator('#conv-list a.conv-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
  const at = ids.indexOf(String(conv.anna));
  assert.ok(at > 0, `anna is listed below another row: ${ids}`);
  await page.locator('body').click();
  await page.keyboard.press('k');
  await page.waitForURL(new RegExp(`/c/${ids[at - 1]}$`));
  // J moves from the row the list marks active: wait until it marks the one K opened.
  await page.locator(`#conv-list a.conv-item.active[data-id="${ids[at - 1]}"]`).waitFor();
  await page.keyboard.press('j');
  await page.waitForURL(new RegExp(`/c/${conv.anna}$`));

  // A assigns to me, E resolves; R focuses the reply box and Escape leaves it; / searches.
  await page.locator('[data-testid="assign-me"]:not([disabled])').waitFor();
  await page.keyboard.press('a');
  await eventually(async () => (await admin.call('GET', `/conversations/${conv.anna}`)).body.assignee_id != null, 'assigned');
  await page.locator('[data-testid="resolve"]:not([disabled])').waitFor();
  await page.keyboard.press('e');
  await page.getByTestId('reopen').waitFor();
  assert.equal((await admin.call('GET', `/conversations/${conv.anna}`)).body.status, 'resolved');
  await page.keyboard.press('r');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'reply-input');
  await page.keyboard.press('Escape');
  assert.notEqual(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'reply-input');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'search-input');
  await page.context().close();
});

test('an agent offline with conversations assigned sees a banner, in Chinese, and goes online from it', async () => {
  // Offline first (going offline may hand an agent's conversations back to the queue), then a
  // supervisor assigns one by hand.
  const profile = (await admin.call('GET', '/profile')).body;
  assert.equal((await admin.call('PUT', `/agents/${profile.id}/status`, { status: 'offline' })).status, 200);
  const assigned = await admin.call('POST', `/conversations/${conv.ben}/assign`, { agent_id: profile.id });
  assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
  const page = await k.signedInPage('zh-CN');
  const banner = page.getByTestId('offline-banner');
  await banner.waitFor();
  assert.match(await banner.innerText(), /你当前处于离线状态，但有 \d+ 个进行中的会话分配给你/);
  await page.getByTestId('banner-go-online').click();
  await banner.waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('status-online').getAttribute('aria-pressed'), 'true');
  assert.equal((await admin.call('GET', '/profile')).body.status, 'online');
  await page.context().close();
});

test('an idle agent turns away after the time chosen in their profile, and online on return', async () => {
  const page = await k.newPage({ height: 900 });
  await page.clock.install();
  await k.login(page);
  await page.goto(`${k.base}/console/#/settings/profile`);
  await page.getByTestId('profile-away').selectOption('5');
  await page.getByTestId('profile-save').click();
  await eventually(async () => (await admin.call('GET', '/profile')).body.away_after_minutes === 5, 'the idle time saved');
  await page.getByTestId('status-online').click();
  await eventually(async () => (await admin.call('GET', '/profile')).body.status === 'online', 'online');

  await page.clock.fastForward('04:00');
  assert.equal((await admin.call('GET', '/profile')).body.status, 'online', 'not yet');
  await page.clock.fastForward('01:30');
  await eventually(async () => (await admin.call('GET', '/profile')).body.status === 'away', 'away after five idle minutes');
  await eventually(async () => (await page.getByTestId('status-away').getAttribute('aria-pressed')) === 'true', 'the header shows away');

  await page.mouse.move(200, 300);
  await page.mouse.move(240, 320);
  await eventually(async () => (await admin.call('GET', '/profile')).body.status === 'online', 'online again on return');

  // Chosen by hand, away stays away whatever the agent does.
  await page.getByTestId('status-away').click();
  await eventually(async () => (await admin.call('GET', '/profile')).body.status === 'away', 'away by hand');
  await page.mouse.move(10, 10);
  await page.mouse.move(50, 60);
  await page.getByTestId('status-away').waitFor();
  assert.equal((await admin.call('GET', '/profile')).body.status, 'away');
  const bad = await admin.call('PATCH', '/profile', { away_after_minutes: 481 });
  assert.equal(bad.status, 422, JSON.stringify(bad.body));
  assert.match(bad.body.detail, /between 0 \(never\) and 480/);
  await page.context().close();
});

test('a failed reply says why in the agent\'s language, and Retry sends it again', async () => {
  const page = await k.signedInPage('zh-CN');
  const id = await customer('dora', 'Anyone there?');
  await open(page, id);
  await input(page).fill('Yes, how can I help?');
  await input(page).press('Enter');
  // The app user has no registered device: the channel gives up with `no_devices`.
  const status = page.locator('[data-testid="delivery-status"][data-status="failed"]');
  await status.waitFor();
  assert.equal(await status.getAttribute('data-code'), 'no_devices');
  assert.match(await status.innerText(), /客户没有可以接收的设备。/);
  assert.match(await status.getByTestId('delivery-reason').innerText(), /no registered device/);
  const attempts = async () => (await admin.call('GET', `/conversations/${id}/messages`)).body.items.at(-1).delivery.attempts;
  const before = await attempts();
  await status.getByTestId('delivery-retry').click();
  await eventually(async () => (await attempts()) > before, 'another attempt');
  await page.locator('[data-testid="delivery-status"][data-status="failed"]').waitFor();
  await page.context().close();
});
