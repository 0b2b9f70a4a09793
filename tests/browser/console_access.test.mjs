// Inbox access in the console: an admin gives an agent and a team an inbox and lets agents read
// others' conversations; the agent then sees the inbox's queue in their own console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openRoute } from './support/kefu.mjs';

let k;
before(async () => { k = await startKefu(); });
after(async () => { await k?.stop(); });

test('an admin sets who can see an inbox, and the agent sees its conversations', async () => {
  const admin = await k.token();
  const ivy = (await k.api('POST', '/agents', { token: admin, body: { email: 'ivy@example.com', name: 'Ivy', password: 'ivys-password' } })).body;
  const team = (await k.api('POST', '/teams', { token: admin, body: { name: 'Night shift' } })).body;
  const inbox = (await k.api('POST', '/inboxes', { token: admin, body: { name: 'Access web', channel: { type: 'web_chat' } } })).body;
  assert.equal(inbox.others_access, 'none', 'others are hidden by default');

  const page = await k.newPage();
  await k.login(page);
  await openRoute(page, `inboxes/${inbox.id}`, 'inbox-access');
  const card = page.getByTestId('inbox-access');
  await card.getByTestId(`access-agent-${ivy.id}`).check();
  await card.getByTestId(`access-team-${team.id}`).check();
  await card.getByTestId('access-others').selectOption('read');
  await card.getByTestId('access-save').click();
  await page.getByText('Access saved.').waitFor();

  const members = (await k.api('GET', `/inboxes/${inbox.id}/members`, { token: admin })).body;
  assert.deepEqual(members, { agent_ids: [ivy.id], team_ids: [team.id] });
  const saved = (await k.api('GET', `/inboxes/${inbox.id}`, { token: admin })).body;
  assert.equal(saved.others_access, 'read');

  // After a reload the card shows what is stored.
  await page.reload();
  await page.getByTestId('inbox-access').getByTestId('access-save').waitFor();
  assert.equal(await page.getByTestId(`access-agent-${ivy.id}`).isChecked(), true);
  assert.equal(await page.getByTestId('access-others').inputValue(), 'read');

  // Ivy, now a member, lists the inbox; the admin's other inboxes stay out of her sight.
  const login = (await k.api('POST', '/auth/login', { body: { email: 'ivy@example.com', password: 'ivys-password' } })).body;
  const hers = (await k.api('GET', '/inboxes', { token: login.token })).body.items.map((i) => i.id);
  assert.deepEqual(hers, [inbox.id]);
  await page.context().close();
});

test('the access card speaks Chinese', async () => {
  const admin = await k.token();
  const inbox = (await k.api('POST', '/inboxes', { token: admin, body: { name: '中文', channel: { type: 'web_chat' } } })).body;
  const page = await k.newPage({ lang: 'zh-CN' });
  await k.login(page);
  await openRoute(page, `inboxes/${inbox.id}`, 'inbox-access');
  const card = page.getByTestId('inbox-access');
  await card.getByText('谁能看到此收件箱').waitFor();
  assert.match(await card.getByTestId('access-save').innerText(), /保存权限/);
  await page.context().close();
});
