// The Reports page (supervisors and admins) shows the figures the report API answers: two
// customers write through the app channel, a supervisor answers both and resolves one; the
// page's cards, per-agent and per-channel tables and the per-day chart carry exactly the API's
// numbers (each cell keeps its raw value in `data-value`), in English and zh-CN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, openSettings, eventually, shot } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-reports-0123456789';
const SUPERVISOR = { email: 'sue@example.com', password: 'password-123' };

let k;
let admin;
let sue;
let inbox;

/** A customer message through the app channel's API; resolves to the conversation id. */
async function customer(externalId, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update(externalId).digest('hex');
  const res = await fetch(`${k.base}/channels/app/${inbox.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: externalId, user_hash, client_id: `${externalId}-1`, text }),
  });
  const body = await res.json();
  assert.ok(res.ok, JSON.stringify(body));
  return body.conversation_id;
}

/** The page's range as the API's query. */
function range() {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const day = (d) => d.toLocaleDateString('en-CA', { timeZone: tz });
  const now = new Date();
  return new URLSearchParams({ from: day(new Date(now.getTime() - 6 * 86400000)), to: day(now), tz }).toString();
}

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  const r = await admin.call('POST', '/agents', { ...SUPERVISOR, name: 'Sue', role: 'supervisor' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  sue = await k.apiAs(SUPERVISOR);
  inbox = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(inbox.id, JSON.stringify(inbox));
  const members = await admin.call('PUT', `/inboxes/${inbox.id}/members`, { agent_ids: [r.body.id], team_ids: [] });
  assert.equal(members.status, 200, JSON.stringify(members.body));
  const first = await customer('ann', 'Where is my parcel?');
  const second = await customer('ben', 'Hello');
  for (const id of [first, second]) {
    const m = await sue.call('POST', `/conversations/${id}/messages`, { text: 'Hi, I am on it.' });
    assert.equal(m.status, 201, JSON.stringify(m.body));
  }
  const res = await admin.call('POST', `/conversations/${first}/resolve`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await eventually(async () => {
    const r = (await sue.call('GET', `/reports/overview?${range()}`)).body;
    return r && r.conversations === 2 && r.resolution_secs.median !== null;
  }, 'the figures in the report');
});
after(async () => { await k?.stop(); });

/** `data-value` as the API would write the number (`""` for null). */
const raw = (v) => (v == null ? '' : String(v));

test('the reports page shows the same figures as the API', async () => {
  const q = range();
  const overview = (await sue.call('GET', `/reports/overview?${q}`)).body;
  const agents = (await sue.call('GET', `/reports/agents?${q}`)).body;
  const channels = (await sue.call('GET', `/reports/channels?${q}`)).body;
  assert.equal(agents.items.length, 1, JSON.stringify(agents));
  assert.equal(agents.items[0].name, 'Sue');
  assert.equal(agents.items[0].conversations, 2);

  const page = await k.newPage({ height: 1400 });
  await k.login(page, SUPERVISOR.email, SUPERVISOR.password);
  await openSettings(page, 'reports');
  const result = page.getByTestId('report-result');
  await result.getByTestId('report-agents-row').first().waitFor();
  const value = async (loc) => loc.getAttribute('data-value');
  assert.equal(await value(result.getByTestId('total-conversations')), raw(overview.conversations));
  assert.equal(await value(result.getByTestId('total-first-response')), raw(overview.first_response_secs.median));
  assert.equal(await value(result.getByTestId('total-resolution')), raw(overview.resolution_secs.median));
  assert.equal(await value(result.getByTestId('total-csat')), raw(overview.csat.average));
  for (const [id, report, key] of [['agents', agents, (i) => String(i.agent_id)], ['channels', channels, (i) => i.channel]]) {
    const rows = result.getByTestId(`report-${id}-row`);
    assert.equal(await rows.count(), report.items.length, id);
    for (const item of report.items) {
      const row = result.locator(`[data-testid="report-${id}-row"][data-key="${key(item)}"]`);
      const cells = {
        conversations: item.conversations,
        'fr-median': item.first_response_secs.median,
        'fr-p90': item.first_response_secs.p90,
        'res-median': item.resolution_secs.median,
        'res-p90': item.resolution_secs.p90,
        'csat-responses': item.csat.responses,
        'csat-average': item.csat.average,
      };
      for (const [cell, want] of Object.entries(cells)) {
        assert.equal(await value(row.getByTestId(cell)), raw(want), `${id} ${key(item)} ${cell}`);
      }
    }
  }
  assert.equal(await result.locator('[data-testid="report-channels-row"][data-key="app_push"]').count(), 1);
  // One bar per day of the range, today's as tall as the conversations opened today.
  const bars = result.getByTestId('report-bar');
  assert.equal(await bars.count(), overview.items.length);
  const today = overview.items[overview.items.length - 1];
  assert.equal(await value(bars.last()), String(today.conversations));
  assert.equal(today.conversations, 2);
  await shot(page, 'reports');
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 1400 });
  await k.login(zh, SUPERVISOR.email, SUPERVISOR.password);
  await openSettings(zh, 'reports');
  await zh.getByTestId('report-agents').getByText('按客服', { exact: true }).waitFor();
  assert.equal(await value(zh.getByTestId('total-conversations')), raw(overview.conversations));
  await zh.context().close();
});

test('agents do not see the reports page', async () => {
  const r = await admin.call('POST', '/agents', { email: 'al@example.com', password: 'password-123', name: 'Al', role: 'agent' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const al = await k.apiAs({ email: 'al@example.com', password: 'password-123' });
  const res = await al.call('GET', `/reports/overview?${range()}`);
  assert.equal(res.status, 403, JSON.stringify(res.body));
  const page = await k.newPage();
  await k.login(page, 'al@example.com', 'password-123');
  await page.goto(`${k.base}/console/#/settings/reports`);
  await page.getByTestId('not-allowed').waitFor();
  await page.context().close();
});
