// The Reports page (supervisors and admins) shows the figures the report API answers: two
// customers write through the app channel, a supervisor answers both and resolves one; the
// page's cards, per-agent and per-channel tables and the per-day chart carry exactly the API's
// numbers (each cell keeps its raw value in `data-value`), in English and zh-CN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, openSettings, eventually, shot, assertNoEnglish } from './support/kefu.mjs';

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
  const teams = (await sue.call('GET', `/reports/teams?${q}`)).body;
  assert.equal(await result.getByTestId('report-teams-row').count(), teams.items.length);

  // Each chart has a bar per day (and series) carrying the API's number for that day.
  const days = overview.items;
  const charts = {
    volume: { conversations: (d) => d.conversations },
    'first-response': { median: (d) => d.first_response_secs.median, p90: (d) => d.first_response_secs.p90 },
    resolution: { median: (d) => d.resolution_secs.median, p90: (d) => d.resolution_secs.p90 },
    csat: { average: (d) => d.csat.average },
  };
  for (const [chart, series] of Object.entries(charts)) {
    const svg = result.locator(`svg[data-chart="${chart}"]`);
    assert.equal(await svg.getAttribute('role'), 'img', chart);
    assert.ok(await svg.getAttribute('aria-label'), chart);
    const bars = await svg.getByTestId('chart-bar').evaluateAll((els) => els.map((e) => ({
      series: e.getAttribute('data-series'), date: e.getAttribute('data-date'), value: e.getAttribute('data-value'),
      title: e.querySelector('title')?.textContent || '' })));
    assert.equal(bars.length, days.length * Object.keys(series).length, chart);
    for (const d of days) {
      for (const [key, pick] of Object.entries(series)) {
        const bar = bars.find((b) => b.date === d.date && b.series === key);
        assert.ok(bar, `${chart} ${key} ${d.date}`);
        assert.equal(bar.value, raw(pick(d)), `${chart} ${key} ${d.date}`);
        assert.ok(bar.title.startsWith(d.date), bar.title);
      }
    }
  }
  const today = days[days.length - 1];
  assert.equal(today.conversations, 2);
  assert.notEqual(today.first_response_secs.median, null);
  // Agent load: one stacked series per agent, each day as the agent's own overview says.
  const sueId = String(agents.items[0].agent_id);
  const own = (await sue.call('GET', `/reports/overview?${q}&agent_id=${sueId}`)).body;
  const load = result.locator('svg[data-chart="load"] [data-testid="chart-bar"]');
  assert.equal(await load.count(), own.items.length);
  for (const d of own.items) {
    const bar = result.locator(`svg[data-chart="load"] [data-series="${sueId}"][data-date="${d.date}"]`);
    assert.equal(await value(bar), raw(d.conversations), d.date);
  }
  assert.equal(own.items[own.items.length - 1].conversations, 2);
  await shot(page, 'reports');
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 1400 });
  await k.login(zh, SUPERVISOR.email, SUPERVISOR.password);
  await openSettings(zh, 'reports');
  await zh.getByTestId('report-agents').getByText('按客服', { exact: true }).waitFor();
  assert.equal(await value(zh.getByTestId('total-conversations')), raw(overview.conversations));
  assert.equal(await zh.locator('svg[data-chart="volume"]').getAttribute('aria-label'), '每日会话数');
  await zh.getByTestId('reports-tab-live').click();
  await zh.getByTestId('live-queues').getByText('各收件箱队列', { exact: true }).waitFor();
  await assertNoEnglish(zh, 'the live dashboard in Chinese', ['Mobile app', 'Sue', 'Al', 'Admin', 'app_push', 'P90']);
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

test('the live dashboard follows new conversations and presence without reloading', async () => {
  const page = await k.newPage({ height: 1200 });
  await k.login(page, SUPERVISOR.email, SUPERVISOR.password);
  await page.goto(`${k.base}/console/#/settings/reports/live`);
  const result = page.getByTestId('live-result');
  const row = result.locator(`[data-testid="live-queue-row"][data-key="${inbox.id}"]`);
  await row.waitFor();
  const snap = (await sue.call('GET', '/reports/live')).body;
  const queue = snap.queues.find((q) => q.inbox_id === inbox.id);
  assert.ok(queue, JSON.stringify(snap));
  const value = async (loc) => loc.getAttribute('data-value');
  assert.equal(await value(row.getByTestId('queued')), String(queue.queued));
  for (const p of ['online', 'busy', 'away', 'offline']) {
    assert.equal(await value(result.getByTestId(`live-presence-${p}`)), String(snap.presence[p]), p);
  }
  for (const a of snap.agents) {
    const r = result.locator(`[data-testid="live-agent-row"][data-key="${a.agent_id}"]`);
    assert.equal(await value(r.getByTestId('open')), String(a.open_conversations));
    assert.equal(await value(r.getByTestId('capacity')), String(a.capacity));
    assert.equal(await value(r.getByTestId('presence')), a.presence);
  }
  // Wait for the socket, then change the floor; the page must follow without a reload.
  await page.locator('span[class="live live"]').waitFor();
  await page.evaluate(() => { window.__kept = true; });
  await customer('cal', 'Is anyone there?');
  await page.waitForFunction(([id, n]) => {
    const cell = document.querySelector(`[data-testid="live-queue-row"][data-key="${id}"] [data-testid="queued"]`);
    return cell && cell.getAttribute('data-value') === String(n);
  }, [inbox.id, queue.queued + 1], { timeout: 15000 });
  const sueId = snap.agents.find((a) => a.name === 'Sue').agent_id;
  const away = snap.presence.away;
  const r = await admin.call('PUT', `/agents/${sueId}/status`, { status: 'away' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await page.waitForFunction((n) => document.querySelector('[data-testid="live-presence-away"]')?.getAttribute('data-value') === String(n),
    away + 1, { timeout: 15000 });
  assert.equal(await page.evaluate(() => window.__kept), true, 'the page was not reloaded');
  const after = (await sue.call('GET', '/reports/live')).body;
  assert.equal(after.queues.find((q) => q.inbox_id === inbox.id).queued, queue.queued + 1);
  await shot(page, 'reports-live');
  await page.context().close();
});
