// Business hours on the settings page: an admin creates a schedule with a split shift,
// holidays and a make-up workday; a bad time is refused next to its day; the schedule is
// edited; deleting one an inbox keeps is refused with the reason; the page reads in zh-CN.
// An inbox's settings choose its schedule and out-of-office reply; the widget says when the
// team is away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openSettings, openRoute, fieldError, assertNoEnglish, shot } from './support/kefu.mjs';

let k;
let admin;

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
});
after(async () => { await k?.stop(); });

/** The settings row of the schedule named `name`. */
const rowOf = (page, name) => page.locator(`[data-testid="schedule-row"][data-name="${name}"]`);

/** Fills the create form and submits it. */
async function createOnPage(page, { name, zone, days = {}, holidays = '', extra = '' }) {
  await page.getByTestId('schedule-new-name').fill(name);
  await page.getByTestId('schedule-new-zone').fill(zone);
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) await page.getByTestId(`schedule-new-day-${d}`).fill(days[d] || '');
  await page.getByTestId('schedule-new-holidays').fill(holidays);
  await page.getByTestId('schedule-new-extra').fill(extra);
  await page.getByTestId('schedule-create').click();
}

test('schedules are created, refused, edited and kept while in use', async () => {
  const page = await k.newPage({ height: 1400 });
  await k.login(page);
  await openSettings(page, 'schedules');
  await page.getByTestId('schedules-empty').waitFor();

  await createOnPage(page, {
    name: 'China support',
    zone: 'Asia/Shanghai',
    days: { mon: '13:00-18:00, 9:00-12:00', fri: '09:00-18:00' },
    holidays: '2026-10-01\n2026-10-02',
    extra: '2026-10-10',
  });
  const china = rowOf(page, 'China support');
  await china.waitFor();
  assert.equal(await china.getByTestId('schedule-row-zone').textContent(), 'Asia/Shanghai');
  assert.equal(await china.getByTestId('schedule-row-mon').textContent(), '09:00-12:00, 13:00-18:00');
  assert.equal(await china.getByTestId('schedule-row-sat').textContent(), 'Closed');
  assert.equal(await china.getByTestId('schedule-row-dates').textContent(), '2 holidays, 1 extra workdays');

  // A time that does not exist is refused next to its day; the form keeps what was typed.
  await createOnPage(page, { name: 'Berlin', zone: 'Europe/Berlin', days: { tue: '25:00-26:00' } });
  const err = fieldError(page.getByTestId('schedule-create-form'), 'weekly.tue');
  await err.filter({ hasText: '25:00' }).waitFor();
  assert.equal(await page.getByTestId('schedule-new-day-tue').inputValue(), '25:00-26:00');
  assert.equal(await rowOf(page, 'Berlin').count(), 0);
  await page.getByTestId('schedule-new-day-tue').fill('08:00-16:00');
  await page.getByTestId('schedule-create').click();
  await rowOf(page, 'Berlin').waitFor();
  await shot(page, 'schedules-settings');

  // Edit: another zone and a Saturday shift.
  await rowOf(page, 'Berlin').getByTestId('schedule-edit').click();
  await page.getByTestId('schedule-edit-zone').fill('Europe/Paris');
  await page.getByTestId('schedule-edit-day-sat').fill('10:00-14:00');
  await page.getByTestId('schedule-edit-save').click();
  await rowOf(page, 'Berlin').getByTestId('schedule-row-zone').filter({ hasText: 'Europe/Paris' }).waitFor();
  assert.equal(await rowOf(page, 'Berlin').getByTestId('schedule-row-sat').textContent(), '10:00-14:00');
  const stored = (await admin.call('GET', '/schedules')).body.items;
  assert.deepEqual(stored.map((s) => [s.name, s.time_zone, s.weekly.sat]), [
    ['Berlin', 'Europe/Paris', [['10:00', '14:00']]],
    ['China support', 'Asia/Shanghai', []],
  ]);

  // An inbox keeps "China support": deleting it is refused and it stays.
  const inbox = (await admin.call('GET', '/inboxes')).body.items.find((i) => i.channel.type === 'web_chat');
  const china_id = stored.find((s) => s.name === 'China support').id;
  assert.equal((await admin.call('PATCH', `/inboxes/${inbox.id}`, { schedule_id: china_id })).status, 200);
  await china.getByTestId('schedule-delete').click();
  await page.getByTestId('confirm-yes').click();
  // In English the toast is the server's sentence, naming the inbox.
  await page.locator('.toast').filter({ hasText: 'is used by inbox' }).filter({ hasText: 'Website' }).waitFor();
  assert.equal(await china.count(), 1);
  // One no inbox keeps goes.
  await rowOf(page, 'Berlin').getByTestId('schedule-delete').click();
  await page.getByTestId('confirm-yes').click();
  await rowOf(page, 'Berlin').waitFor({ state: 'detached' });
  await page.context().close();

  // The same page in Chinese.
  const zh = await k.newPage({ lang: 'zh-CN', height: 1400 });
  await k.login(zh);
  await openSettings(zh, 'schedules');
  await rowOf(zh, 'China support').waitFor();
  assert.equal(await zh.getByTestId('nav-schedules').textContent(), '工作时间');
  assert.equal(await rowOf(zh, 'China support').getByTestId('schedule-row-sat').textContent(), '休息');
  assert.equal(await zh.getByTestId('schedule-create').textContent(), '创建时间表');
  await shot(zh, 'schedules-settings-zh');
  await assertNoEnglish(zh, 'schedules', ['China support', 'Asia/Shanghai', 'Kefu', 'Admin', 'admin@example.com']);
  await zh.context().close();
});

test('the widget says the team is away outside business hours', async () => {
  // Open only on the weekday after tomorrow: closed now.
  const opens = new Date(Date.now() + 2 * 86_400_000);
  const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][opens.getUTCDay()];
  const schedule = await admin.call('POST', '/schedules', { name: 'Rarely', time_zone: 'UTC', weekly: { [day]: [['00:00', '24:00']] } });
  assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
  const inbox = (await admin.call('GET', '/inboxes')).body.items.find((i) => i.channel.type === 'web_chat');
  assert.equal((await admin.call('PATCH', `/inboxes/${inbox.id}`, { schedule_id: schedule.body.id })).status, 200);

  for (const [lang, away] of [['en', 'We are away. Back '], ['zh-CN', '我们现在不在线，']]) {
    const visitor = await k.newPage();
    await visitor.addInitScript((l) => { Object.defineProperty(navigator, 'language', { get: () => l }); }, lang);
    await visitor.goto(`${k.base}/`);
    await visitor.getByTestId('kefu-launcher').click();
    await visitor.getByTestId('kefu-panel').waitFor();
    const sub = visitor.getByTestId('kefu-sub');
    await sub.filter({ hasText: away }).waitFor();
    if (lang === 'zh-CN') assert.match(await sub.textContent(), /恢复服务$/);
    await shot(visitor, `widget-away-${lang}`);
    await visitor.context().close();
  }
});

test("an inbox's settings choose its schedule and out-of-office reply", async () => {
  const inbox = (await admin.call('GET', '/inboxes')).body.items.find((i) => i.channel.type === 'web_chat');
  const china = (await admin.call('GET', '/schedules')).body.items.find((s) => s.name === 'China support');
  const page = await k.newPage({ height: 1400 });
  await k.login(page);
  await openRoute(page, `inboxes/${inbox.id}`, 'inbox-hours');
  const card = page.getByTestId('inbox-hours');
  await card.getByTestId('hours-schedule').selectOption(String(china.id));
  await card.getByTestId('hours-away-enabled').check();
  await card.getByTestId('hours-away-message').fill('');
  await card.getByTestId('hours-save').click();
  // Enabled without a message: refused next to the message.
  await fieldError(card, 'out_of_office.message').filter({ hasText: 'required' }).waitFor();
  await card.getByTestId('hours-away-message').fill('We are closed. We open {{next_open}}.');
  await card.getByTestId('hours-away-repeat').fill('12');
  await card.getByTestId('hours-save').click();
  await page.locator('.toast').filter({ hasText: 'Business hours saved.' }).waitFor();
  const saved = (await admin.call('GET', `/inboxes/${inbox.id}`)).body;
  assert.equal(saved.schedule_id, china.id);
  assert.deepEqual(saved.out_of_office, { enabled: true, message: 'We are closed. We open {{next_open}}.', repeat_after_hours: 12 });
  await shot(page, 'inbox-hours');
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 1400 });
  await k.login(zh);
  await openRoute(zh, `inboxes/${inbox.id}`, 'inbox-hours');
  await zh.getByTestId('inbox-hours').getByText('工作时间', { exact: true }).waitFor();
  assert.equal(await zh.getByTestId('hours-save').textContent(), '保存工作时间');
  assert.equal(await zh.getByTestId('hours-away-message').inputValue(), 'We are closed. We open {{next_open}}.');
  await zh.context().close();
});
