// Customer satisfaction end to end in the browser: an admin turns the survey on in the inbox's
// settings (English and zh-CN); a visitor whose chat is resolved rates it in the widget's card,
// in their language, once; the agent sees the rating in the thread and the contact panel; the
// email-style rating page works in the browser too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKefu, openRoute, eventually, shot } from './support/kefu.mjs';

let k;
let admin;
let inbox;
/** The conversation the English visitor rated. */
let rated;

before(async () => {
  k = await startKefu();
  admin = await k.apiAs();
  inbox = (await admin.call('GET', '/inboxes')).body.items.find((i) => i.channel.type === 'web_chat');
});
after(async () => { await k?.stop(); });

test("an inbox's settings turn the satisfaction survey on", async () => {
  const page = await k.newPage({ height: 1600 });
  await k.login(page);
  await openRoute(page, `inboxes/${inbox.id}`, 'inbox-csat');
  const card = page.getByTestId('inbox-csat');
  assert.equal(await card.getByTestId('csat-enabled').isChecked(), false);
  await card.getByTestId('csat-message').fill('x'.repeat(500) + 'y');
  // The browser keeps the textarea to its maximum; the server's limit is the same.
  assert.equal((await card.getByTestId('csat-message').inputValue()).length, 500);
  await card.getByTestId('csat-message').fill('');
  await card.getByTestId('csat-enabled').check();
  await card.getByTestId('csat-save').click();
  await page.locator('.toast').filter({ hasText: 'Satisfaction survey saved.' }).waitFor();
  const saved = (await admin.call('GET', `/inboxes/${inbox.id}`)).body;
  assert.deepEqual(saved.csat, { enabled: true, message: '' });
  await shot(page, 'inbox-csat');
  await page.context().close();

  const zh = await k.newPage({ lang: 'zh-CN', height: 1600 });
  await k.login(zh);
  await openRoute(zh, `inboxes/${inbox.id}`, 'inbox-csat');
  await zh.getByTestId('inbox-csat').getByText('满意度调查', { exact: true }).waitFor();
  assert.equal(await zh.getByTestId('csat-save').textContent(), '保存调查设置');
  assert.equal(await zh.getByTestId('csat-enabled').isChecked(), true);
  await zh.context().close();
});

/** A visitor in `lang` writes `text`; returns the page and their conversation id. */
async function visitorWrites(lang, text) {
  const visitor = await k.newPage();
  await visitor.addInitScript((l) => { Object.defineProperty(navigator, 'language', { get: () => l }); }, lang);
  await visitor.goto(`${k.base}/`);
  await visitor.getByTestId('kefu-launcher').click();
  await visitor.getByTestId('kefu-panel').waitFor();
  await visitor.getByTestId('kefu-input').fill(text);
  await visitor.getByTestId('kefu-send').click();
  await visitor.locator('[data-testid="kefu-message"][data-direction="inbound"][data-status="sent"]').first().waitFor({ timeout: 15_000 });
  const conv = await eventually(async () => {
    const list = (await admin.call('GET', '/conversations?limit=50')).body.items || [];
    return list.find((c) => c.last_message && c.last_message.text === text)?.id;
  }, `the conversation of "${text}"`);
  return { visitor, conv };
}

test('a visitor rates a resolved chat in the widget and the agent sees it', async () => {
  const { visitor, conv } = await visitorWrites('en', 'My order never came');
  rated = conv;
  assert.equal((await admin.call('POST', `/conversations/${conv}/assign`, { agent_id: 1 })).status, 200);
  assert.equal((await admin.call('POST', `/conversations/${conv}/resolve`)).status, 200);

  const card = visitor.getByTestId('kefu-csat');
  await visitor.locator('[data-testid="kefu-csat"][data-state="asking"]').waitFor({ timeout: 15_000 });
  assert.match(await card.textContent(), /How would you rate the help you received\?/);
  // Nothing goes out before a star is chosen.
  assert.equal(await visitor.getByTestId('kefu-csat-submit').isDisabled(), true);
  await visitor.getByTestId('kefu-csat-4').click();
  await visitor.getByTestId('kefu-csat-comment').fill('Sorted out quickly');
  await shot(visitor, 'widget-csat');
  await visitor.getByTestId('kefu-csat-submit').click();
  await visitor.getByTestId('kefu-csat-msg').filter({ hasText: 'Thank you for your rating!' }).waitFor();
  const stored = (await admin.call('GET', `/conversations/${conv}/csat`)).body.items;
  assert.deepEqual(stored.map((s) => [s.conversation_id, s.status, s.rating, s.comment]), [[conv, 'submitted', 4, 'Sorted out quickly']]);

  // A reload does not ask again.
  await visitor.reload();
  await visitor.getByTestId('kefu-launcher').click();
  await visitor.locator('[data-testid="kefu-message"]').first().waitFor();
  assert.equal(await visitor.getByTestId('kefu-csat').isHidden(), true);
  await visitor.context().close();

  // The agent's thread and contact panel show the rating.
  const agent = await k.newPage({ height: 1200 });
  await k.login(agent);
  await agent.goto(`${k.base}/console/#/c/${conv}`);
  await agent.locator('[data-testid="activity-line"][data-kind="csat_submitted"]', { hasText: 'The customer rated it ★★★★ (4/5): “Sorted out quickly”' }).waitFor();
  await agent.locator('[data-testid="activity-line"][data-kind="csat_requested"]').waitFor();
  const here = agent.getByTestId('contact-csat-here');
  await here.waitFor();
  assert.equal(await here.getAttribute('data-rating'), '4');
  assert.equal(await agent.getByTestId('contact-csat-average').textContent(), 'Average 4.0 of 5 over 1 rated conversations');
  await shot(agent, 'console-csat');
  await agent.context().close();
});

test('the card and the rating page speak Chinese', async () => {
  const { visitor, conv } = await visitorWrites('zh-CN', '快递丢了');
  assert.equal((await admin.call('POST', `/conversations/${conv}/resolve`)).status, 200);
  const card = visitor.getByTestId('kefu-csat');
  await card.getByText('您对本次服务满意吗？').waitFor({ timeout: 15_000 });
  await visitor.getByTestId('kefu-csat-2').click();
  await visitor.getByTestId('kefu-csat-submit').click();
  await visitor.getByTestId('kefu-csat-msg').filter({ hasText: '感谢您的评价！' }).waitFor();
  await visitor.context().close();

  // The rating page an email link opens, in a Chinese browser: spent already, and it says so.
  const survey = await eventually(async () => {
    const got = (await admin.call('GET', `/conversations/${conv}/csat`)).body.items || [];
    return got.find((s) => s.conversation_id === conv && s.status === 'submitted');
  }, 'the stored rating');
  assert.equal(survey.rating, 2);
  const page = await k.newPage({ lang: 'zh-CN' });
  await page.setExtraHTTPHeaders({ 'Accept-Language': 'zh-CN,zh;q=0.9' });
  const res = await page.goto(`${k.base}/csat/not-a-real-token?rating=5`);
  assert.equal(res.status(), 404);
  await page.getByText('此评价链接无效。').waitFor();
  await page.context().close();
});

test('the zh-CN console says the rating in Chinese', async () => {
  assert.ok(rated, 'the English visitor rated a conversation');
  const zh = await k.newPage({ lang: 'zh-CN', height: 1200 });
  await k.login(zh);
  await zh.goto(`${k.base}/console/#/c/${rated}`);
  await zh.locator('[data-testid="activity-line"][data-kind="csat_submitted"]', { hasText: '客户评分 ★★★★（4/5）：“Sorted out quickly”' }).waitFor();
  await zh.getByTestId('contact-csat').getByText('满意度', { exact: true }).waitFor();
  await zh.context().close();
});
