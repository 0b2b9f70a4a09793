// Handing over from the thread header: transfer a conversation to another agent, see the
// timeline line in the thread (it survives a reload; a change made elsewhere arrives live over
// the agent socket), and the header and the lines in zh-CN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, ADMIN } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-tests-0123456789';

let k;
let admin;
let adminName;
let li;
let conv;

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  const me = await k.api('POST', '/auth/login', { body: ADMIN });
  adminName = me.body.agent.name;
  const inbox = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(inbox.id, JSON.stringify(inbox));
  const user_hash = createHmac('sha256', APP_SECRET).update('alice').digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: 'alice', user_hash, client_id: 'alice-1', text: 'Where is my refund?' }),
  });
  conv = (await res.json()).conversation_id;
  assert.ok(conv);
  li = (await admin.call('POST', '/agents', { email: 'li@example.com', name: 'Li Lei', password: 'li-password-1' })).body;
  assert.ok(li.id, JSON.stringify(li));
  const mine = await admin.call('POST', `/conversations/${conv}/assign`, { agent_id: me.body.agent.id });
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
});
after(async () => { await k?.stop(); });

/** The timeline lines of `kind` in the open thread. */
const lines = (page, kind) => page.locator(`[data-testid="activity-line"][data-kind="${kind}"]`);

test('a conversation is transferred from the thread header and the timeline keeps the line', async () => {
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/c/${conv}`);
  await lines(page, 'assigned').waitFor();
  assert.match(await lines(page, 'assigned').textContent(), new RegExp(`^Assigned to ${adminName} by ${adminName}`));

  const handover = page.getByTestId('handover');
  assert.equal((await handover.textContent()).trim(), 'Transfer');
  await handover.click();
  await page.getByTestId('handover-target').selectOption(`agent:${li.id}`);
  await page.getByTestId('handover-save').click();
  await lines(page, 'transferred').waitFor();
  const said = `Transferred to Li Lei by ${adminName}`;
  assert.match(await lines(page, 'transferred').textContent(), new RegExp(`^${said}`));
  assert.equal((await admin.call('GET', `/conversations/${conv}`)).body.assignee_id, li.id);
  await page.getByTestId('thread').getByText('Assigned to Li Lei', { exact: false }).first().waitFor();

  // The line comes from the server: it is still there after a reload, after the message
  // that preceded it.
  await page.reload();
  await lines(page, 'transferred').waitFor();
  assert.match(await lines(page, 'transferred').textContent(), new RegExp(`^${said}`));
  const order = await page.locator('[data-testid="thread-message"], [data-testid="activity-line"]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind') || e.getAttribute('data-direction')));
  assert.deepEqual(order, ['inbound', 'assigned', 'transferred']);

  // Li resolves it elsewhere: the line arrives over the socket, no reload.
  const liApi = await k.apiAs({ email: 'li@example.com', password: 'li-password-1' });
  assert.equal((await liApi.call('POST', `/conversations/${conv}/resolve`)).status, 200);
  await lines(page, 'resolved').waitFor();
  assert.match(await lines(page, 'resolved').textContent(), /^Resolved by Li Lei/);
  await page.context().close();
});

test('the header and the timeline speak Chinese', async () => {
  const reopened = await admin.call('POST', `/conversations/${conv}/reopen`);
  assert.equal(reopened.status, 200, JSON.stringify(reopened.body));
  const page = await k.signedInPage('zh-CN');
  await page.goto(`${k.base}/console/#/c/${conv}`);
  await lines(page, 'reopened').waitFor();
  assert.match(await lines(page, 'transferred').textContent(), new RegExp(`^${adminName} 转接给 Li Lei`));
  assert.match(await lines(page, 'resolved').textContent(), /^Li Lei 解决了会话/);
  assert.match(await lines(page, 'reopened').textContent(), new RegExp(`^${adminName} 重新打开了会话`));
  assert.equal((await page.getByTestId('conv-status').textContent()).trim().length > 0, true);
  // Queued again and unassigned: a supervisor is offered to assign it, or to take it.
  assert.equal((await page.getByTestId('handover').textContent()).trim(), '分配');
  assert.equal((await page.getByTestId('assign-me').textContent()).trim(), '分配给我');
  await page.getByTestId('handover').click();
  await page.getByTestId('handover-dialog').getByText('分配会话').waitFor();
  await page.getByTestId('handover-target').selectOption(`agent:${li.id}`);
  await page.getByTestId('handover-save').click();
  await lines(page, 'assigned').nth(1).waitFor();
  assert.match(await lines(page, 'assigned').nth(1).textContent(), new RegExp(`^${adminName} 分配给 Li Lei`));
  await page.context().close();
});
