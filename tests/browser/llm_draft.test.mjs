// The reply box's Draft button, with a language model configured (a local stand-in for an
// OpenAI-compatible API that records what it receives): it fills the reply box with the
// model's draft and names the knowledge base entry it cites, in English and Chinese, and what
// the model received had the customer's phone number replaced. Without a model the button is
// not shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKefu, recorder } from './support/kefu.mjs';

const APP_SECRET = 'app-secret-for-llm-draft-tests-1';
const DRAFT = 'Shipping is free on orders over 99 yuan. (drafted by the stand-in)';

let k;
let plain;
let llm;
let conv;
let entry;

/** The stand-in's chat completion: cites the first entry it was given. */
function complete(body) {
  const text = JSON.parse(body).messages.map((m) => m.content).join('\n');
  const id = Number((text.match(/\[(\d+)\] Q:/) || [])[1]);
  const content = JSON.stringify({ answer: DRAFT, citations: id ? [id] : [] });
  return {
    status: 200,
    type: 'application/json',
    body: JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }], usage: { total_tokens: 42 } }),
  };
}

/** A customer message through the app channel's API on `kefu`; resolves to the conversation id. */
async function customer(kefu, inbox, text) {
  const user_hash = createHmac('sha256', APP_SECRET).update('dora').digest('hex');
  const res = await fetch(`${kefu.base}/channels/app/${inbox}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ external_id: 'dora', user_hash, client_id: `dora-${Date.now()}-${Math.random()}`, text }),
  });
  const body = await res.json();
  assert.ok(res.ok, JSON.stringify(body));
  return body.conversation_id;
}

/** An app inbox on `kefu`. */
async function appInbox(admin) {
  const inbox = (await admin.call('POST', '/inboxes', { name: 'Mobile app', channel: { type: 'app_push', app_secret: APP_SECRET } })).body;
  assert.ok(inbox.id, JSON.stringify(inbox));
  return inbox.id;
}

before(async () => {
  llm = await recorder((req, body) => (req.url === '/v1/chat/completions' ? complete(body) : { status: 404, body: 'no' }));
  k = await startKefu({
    env: {
      KEFU_AI__LLM__BASE_URL: `${llm.url}/v1`,
      KEFU_AI__LLM__MODEL: 'stand-in',
      KEFU_AI__LLM__API_KEY: 'sk-browser-test',
      KEFU_AI__LLM__SUMMARIES: 'false',
    },
  });
  const admin = await k.apiAs();
  const created = await admin.call('POST', '/knowledge', { question: 'How much is shipping?', alternatives: ['shipping fee'], answer: 'Shipping is free over 99 yuan.' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  entry = created.body.id;
  conv = await customer(k, await appInbox(admin), 'How much is shipping? My phone is 13812345678.');
  plain = await startKefu();
});
after(async () => { await k?.stop(); await plain?.stop(); await llm?.close(); });

test('Draft fills the reply box with the model draft and its source', async () => {
  const page = await k.signedInPage('en');
  await page.goto(`${k.base}/console/#/c/${conv}`);
  const button = page.getByTestId('draft-button');
  await button.waitFor();
  assert.equal((await button.textContent()).trim(), 'Draft');
  await button.click();
  const cited = page.getByTestId('draft-citation');
  await cited.waitFor();
  assert.equal(await page.getByTestId('reply-input').inputValue(), DRAFT);
  assert.equal((await cited.textContent()).trim(), 'How much is shipping?');
  assert.equal(await cited.getAttribute('data-id'), String(entry));
  assert.match(await page.getByTestId('draft-status').textContent(), /^Based on:/);

  assert.equal(llm.requests.length, 1);
  const sent = llm.requests[0];
  assert.equal(sent.headers.authorization, 'Bearer sk-browser-test');
  assert.ok(sent.body.includes('[PHONE]'), sent.body);
  assert.ok(!sent.body.includes('13812345678'), sent.body);
});

test('the button and its source line speak Chinese', async () => {
  const page = await k.signedInPage('zh-CN');
  await page.goto(`${k.base}/console/#/c/${conv}`);
  const button = page.getByTestId('draft-button');
  await button.waitFor();
  assert.equal((await button.textContent()).trim(), '草稿');
  await button.click();
  await page.getByTestId('draft-citation').waitFor();
  assert.match(await page.getByTestId('draft-status').textContent(), /^依据：/);
});

test('without a language model there is no Draft button', async () => {
  const admin = await plain.apiAs();
  const id = await customer(plain, await appInbox(admin), 'How much is shipping?');
  const page = await plain.signedInPage('en');
  const asked = page.waitForResponse((r) => r.url() === `${plain.base}/api/v1/ai`);
  await page.goto(`${plain.base}/console/#/c/${id}`);
  assert.deepEqual(await (await asked).json(), { llm: false });
  await page.getByTestId('reply-input').waitFor();
  // The button is built with the composer and stays hidden once the server said no.
  assert.equal(await page.getByTestId('draft-button').count(), 1);
  assert.equal(await page.getByTestId('draft-button').isVisible(), false);
});
