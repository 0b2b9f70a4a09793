// Mentions and the bell: an agent types `@` in a private note, picks a teammate from the list
// and sends; the note shows the mention highlighted; the teammate's bell counts it live (and
// in the tab title), lists it in their language, and opening it goes to the conversation and
// clears the count. A conversation assigned to them rings the bell too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, eventually } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-mention-tests-012';
const MEI = { email: 'mei@example.com', password: 'meis-password-1' };

let k;
let admin;
let inbox;
let mei;
const conv = {};

/** A customer message through the app channel's API; resolves to the conversation id. */
async function customer(externalId, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update(externalId).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: externalId, user_hash, client_id: `${externalId}-1`, text, name: externalId }),
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
  mei = (await admin.call('POST', '/agents', { ...MEI, name: 'Mei Lin', role: 'admin' })).body;
  assert.ok(mei.id, JSON.stringify(mei));
  conv.refund = await customer('zhang', '我的退款什么时候到账？');
  conv.other = await customer('li', 'Hello');
});
after(async () => { await k?.stop(); });

test('a teammate mentioned in a note is told live, in Chinese, and opening it clears the bell', async () => {
  // Mei is signed in, in Chinese, with no notifications.
  const meiPage = await k.newPage({ lang: 'zh-CN', height: 900 });
  await k.login(meiPage, MEI.email, MEI.password);
  assert.equal(await meiPage.getByTestId('bell-count').isVisible(), false);
  await meiPage.getByTestId('bell').click();
  await meiPage.getByTestId('bell-empty').filter({ hasText: '暂无新通知' }).waitFor();
  await meiPage.getByTestId('bell').click();

  // The admin writes a note on the refund conversation and mentions Mei from the list.
  const page = await k.signedInPage();
  await page.goto(`${k.base}/console/#/c/${conv.refund}`);
  await page.getByTestId('private-toggle').click();
  const input = page.getByTestId('reply-input');
  await input.fill('Could ');
  await input.pressSequentially('@me');
  const option = page.locator('[data-testid="mention-option"][data-kind="agent"]');
  await option.first().waitFor();
  assert.deepEqual(await option.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))), [String(mei.id)]);
  await input.press('Enter');
  assert.equal(await input.inputValue(), 'Could @Mei Lin ');
  await input.pressSequentially('check the refund?');
  await input.press('Enter');
  const note = page.locator('[data-testid="thread-message"][data-private="true"]').filter({ hasText: 'check the refund?' });
  await note.waitFor();
  assert.equal(await note.getByTestId('mention').innerText(), '@Mei Lin');

  // Mei's bell counts it without a reload, the title shows it, and the list says who and where.
  await meiPage.getByTestId('bell-count').filter({ hasText: '1' }).waitFor();
  await eventually(async () => (await meiPage.title()).startsWith('('), 'the unread count in the title');
  await meiPage.getByTestId('bell').click();
  const item = meiPage.locator('[data-testid="bell-item"][data-kind="mention"]');
  await item.waitFor();
  const text = await item.innerText();
  assert.match(text, /在与 zhang 的会话中提及了你/);
  assert.match(text, /Could @Mei Lin check the refund\?/);
  await item.click();
  await meiPage.waitForURL(new RegExp(`/c/${conv.refund}$`));
  await meiPage.getByTestId('thread-message').filter({ hasText: '我的退款什么时候到账？' }).waitFor();
  await eventually(async () => !(await meiPage.getByTestId('bell-count').isVisible()), 'the bell cleared');
  const left = await admin.call('GET', '/notifications?unread=true');
  assert.equal(left.status, 200);
  const meiToken = await k.token(MEI.email, MEI.password);
  const meiLeft = await k.api('GET', '/notifications?unread=true', { token: meiToken });
  assert.equal(meiLeft.body.unread_count, 0, JSON.stringify(meiLeft.body));
  await page.context().close();

  // A conversation assigned to Mei rings the bell too; "mark all read" clears it.
  const assigned = await admin.call('POST', `/conversations/${conv.other}/assign`, { agent_id: mei.id });
  assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
  await meiPage.getByTestId('bell-count').filter({ hasText: '1' }).waitFor();
  await meiPage.getByTestId('bell').click();
  await meiPage.locator('[data-testid="bell-item"][data-kind="assignment"]').filter({ hasText: '将与 li 的会话交给了你' }).waitFor();
  await meiPage.getByTestId('bell-read-all').click();
  await eventually(async () => !(await meiPage.getByTestId('bell-count').isVisible()), 'the bell cleared');
  assert.equal(await meiPage.locator('[data-testid="bell-item"].unread').count(), 0);
  await meiPage.context().close();
});

test('the list offers only teammates who can open the conversation', async () => {
  // Meng is an agent outside the inbox: the server would refuse her, so the list leaves her out.
  const meng = (await admin.call('POST', '/agents', { email: 'meng@example.com', password: 'mengs-password-1', name: 'Meng Qi', role: 'agent' })).body;
  assert.ok(meng.id, JSON.stringify(meng));
  const offered = async () => {
    const page = await k.signedInPage();
    await page.goto(`${k.base}/console/#/c/${conv.refund}`);
    // Who may be mentioned is asked when the note box opens; typing waits for the answer.
    await page.getByTestId('private-toggle').click();
    await page.locator('[data-testid="mention-picker"][data-readers="known"]').waitFor({ state: 'attached' });
    const input = page.getByTestId('reply-input');
    await input.pressSequentially('@me');
    const option = page.locator('[data-testid="mention-option"][data-kind="agent"]');
    await option.first().waitFor();
    const ids = await option.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    await page.context().close();
    return ids.sort();
  };
  assert.deepEqual(await offered(), [String(mei.id)]);
  const joined = await admin.call('PUT', `/inboxes/${inbox.id}/members`, { agent_ids: [meng.id], team_ids: [] });
  assert.equal(joined.status, 200, JSON.stringify(joined.body));
  assert.deepEqual(await offered(), [String(mei.id), String(meng.id)].sort());
});
