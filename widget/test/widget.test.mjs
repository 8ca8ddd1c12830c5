import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import {
  startServer, hostPage, widgetPage, launch, login, agentSend, agentSocket, shownMessages, setBot, differingPixels,
  clusterEnv, bridgeUp, killBridge, forgetPrefix, smtpSink,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function setup(opts, { bot = 'off', env = {} } = {}) {
  const server = await startServer({ env });
  // The demo tenant answers with its bot; most tests want only people.
  await setBot(server.url, await login(server.url), bot);
  const host = await hostPage(widgetPage(server.url, opts));
  const context = await browser.newContext();
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  return {
    server, host, context, page, dialogs,
    async done() { await context.close(); await host.close(); await server.stop(); server.cleanup(); },
  };
}

async function sendFromWidget(page, text) {
  const input = page.locator('call-center-chat textarea');
  await input.fill(text);
  await input.press('Enter');
}

test('the bundle stays within 12 KB minified and gzipped', () => {
  const built = readFileSync(join(import.meta.dirname, '..', 'dist', 'chat-widget.js'));
  const gz = gzipSync(built, { level: 9 }).length;
  console.log(`chat-widget.js: ${built.length} bytes minified, ${gz} bytes gzipped`);
  assert.ok(gz <= 12 * 1024, `widget is ${gz} bytes gzipped`);
});

test('a visitor message reaches an agent and the reply arrives over the socket alone', async () => {
  const t = await setup();
  try {
    const token = await login(t.server.url);
    const agent = await agentSocket(t.server.url, token);
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    await sendFromWidget(t.page, 'Hello, is anyone there?');
    const got = await agent.waitFor((f) => f.type === 'chat.message.new' && f.payload.body === 'Hello, is anyone there?');
    assert.equal(got.payload.sender_type, 'customer');
    await t.page.locator('call-center-chat .state', { hasText: 'Online' }).waitFor();
    await t.page.locator('call-center-chat .m.customer:not(.pending)').waitFor();

    const requests = [];
    t.page.on('request', (r) => requests.push(r.url()));
    await agentSend(t.server.url, token, got.payload.session_id, 'Hi! How can I help?');
    await t.page.locator('call-center-chat .m.agent', { hasText: 'Hi! How can I help?' }).waitFor();
    assert.deepEqual(requests, [], 'the widget made no request to receive the reply');
    agent.close();
  } finally { await t.done(); }
});

test('after the server cuts the socket the widget shows every message once, in order', async () => {
  const t = await setup();
  let server2;
  try {
    const token = await login(t.server.url);
    const agent = await agentSocket(t.server.url, token);
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    await sendFromWidget(t.page, 'first');
    const first = await agent.waitFor((f) => f.type === 'chat.message.new' && f.payload.body === 'first');
    const sid = first.payload.session_id;
    await t.page.locator('call-center-chat .state', { hasText: 'Online' }).waitFor();
    agent.close();

    // The server goes away (closing the widget's socket) and comes back on
    // the same port and database; the agent sends three messages meanwhile.
    await t.server.stop();
    await t.page.locator('call-center-chat .state', { hasText: /Reconnecting|Offline/ }).waitFor();
    server2 = await startServer({ port: t.server.port, dataDir: t.server.dataDir });
    for (const body of ['one', 'two', 'three']) await agentSend(server2.url, token, sid, body);

    await t.page.locator('call-center-chat .m.agent', { hasText: 'three' }).waitFor({ timeout: 20000 });
    await t.page.locator('call-center-chat .state', { hasText: 'Online' }).waitFor({ timeout: 20000 });
    const shown = await shownMessages(t.page);
    assert.deepEqual(shown.map((m) => m.text), ['first', 'one', 'two', 'three']);
    assert.deepEqual(shown.map((m) => m.seq), [1, 2, 3, 4]);
  } finally {
    await server2?.stop();
    await t.done();
  }
});

test('a reload restores the whole conversation', async () => {
  const t = await setup();
  try {
    const token = await login(t.server.url);
    const agent = await agentSocket(t.server.url, token);
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    await sendFromWidget(t.page, 'before reload');
    const got = await agent.waitFor((f) => f.type === 'chat.message.new' && f.payload.body === 'before reload');
    await agentSend(t.server.url, token, got.payload.session_id, 'agent answer');
    await t.page.locator('call-center-chat .m.agent', { hasText: 'agent answer' }).waitFor();
    await t.page.reload();
    await t.page.locator('call-center-chat .bubble').click();
    await t.page.locator('call-center-chat .m.agent', { hasText: 'agent answer' }).waitFor();
    const shown = await shownMessages(t.page);
    assert.deepEqual(shown.map((m) => m.text), ['before reload', 'agent answer']);
    agent.close();
  } finally { await t.done(); }
});

test('html sent by either side shows as text and runs nothing', async () => {
  const t = await setup();
  try {
    const token = await login(t.server.url);
    const agent = await agentSocket(t.server.url, token);
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    const payloads = ['<img src=x onerror=alert(1)>', '<script>window.__pwned=1</script>', '<b onmouseover="alert(2)">bold</b>'];
    await sendFromWidget(t.page, payloads[0]);
    const got = await agent.waitFor((f) => f.type === 'chat.message.new' && f.payload.body === payloads[0]);
    for (const p of payloads.slice(1)) await agentSend(t.server.url, token, got.payload.session_id, p);
    await t.page.locator('call-center-chat .m.agent', { hasText: 'bold</b>' }).waitFor();
    const shown = await shownMessages(t.page);
    assert.deepEqual(shown.map((m) => m.text), payloads);
    const injected = await t.page.evaluate(() => ({
      imgs: document.querySelector('call-center-chat').shadowRoot.querySelectorAll('.log img, .log script, .log b').length,
      pwned: window.__pwned === 1,
    }));
    assert.deepEqual(injected, { imgs: 0, pwned: false });
    assert.deepEqual(t.dialogs, []);
    agent.close();
  } finally { await t.done(); }
});

const HOSTILE = `
  * { font-family: "Comic Sans MS", cursive !important; font-size: 31px !important; color: #f0f !important;
      line-height: 3 !important; letter-spacing: 4px !important; box-sizing: content-box !important; }
  div, p, button, input, textarea, span, form, h2 { margin: 17px !important; padding: 13px !important;
      border: 5px solid lime !important; background: yellow !important; width: 90px !important;
      display: inline !important; position: relative !important; text-transform: uppercase !important; }
  body { background: #222 !important; }
`;

test('aggressive host-page css leaves the widget looking the same', async () => {
  const plain = await setup();
  const hostile = await setup({ css: HOSTILE });
  try {
    const shots = [];
    for (const t of [plain, hostile]) {
      await t.page.setViewportSize({ width: 1000, height: 700 });
      await t.page.goto(t.host.url);
      await t.page.locator('call-center-chat .bubble').click();
      const panel = t.page.locator('call-center-chat .panel');
      await panel.waitFor();
      const box = await panel.boundingBox();
      // Inset past the rounded corners, where the page shows through.
      const clip = { x: box.x + 14, y: box.y + 14, width: box.width - 28, height: box.height - 28 };
      shots.push({ box, png: await t.page.screenshot({ clip, animations: 'disabled', caret: 'hide' }) });
    }
    assert.deepEqual(shots[1].box, shots[0].box, 'same position and size');
    // Anti-aliasing of rounded corners may differ by a shade between two
    // renders; any real change in layout, font or colour moves far more.
    const differing = differingPixels(shots[0].png, shots[1].png);
    assert.equal(differing, 0, `${differing} pixels differ`);
  } finally {
    await plain.done();
    await hostile.done();
  }
});

test('the bot answers a help-centre question, styled apart from agents', async () => {
  // Nobody is online: the snippet knows the visitor's email, so the
  // pre-chat form has nothing required to ask.
  const t = await setup({ init: { user: { email: 'visitor@example.com' } } }, { bot: 'knowledge_base' });
  try {
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    await sendFromWidget(t.page, 'What are your opening hours?');
    const bot = t.page.locator('call-center-chat .m.bot');
    await bot.waitFor();
    assert.match(await bot.textContent(), /Monday to Friday/);
    assert.match(await bot.textContent(), /Opening hours/);
    const styles = await t.page.locator('call-center-chat .log .m').evaluateAll((nodes) => nodes.map((n) => getComputedStyle(n).borderStyle));
    assert.equal(styles.length, 2);
    assert.notEqual(styles[0], styles[1], 'bot bubbles look different from the customer\'s');
  } finally { await t.done(); }
});

test('keyboard, screen reader, phone layout and the JS API', async () => {
  const t = await setup({ init: { user: { email: 'visitor@example.com' } } });
  try {
    await t.page.setViewportSize({ width: 375, height: 700 });
    await t.page.goto(t.host.url);
    await t.page.evaluate(() => {
      window.__events = [];
      CallCenterChat.on('open', () => window.__events.push('open'));
      CallCenterChat.on('close', () => window.__events.push('close'));
    });
    const bubble = t.page.locator('call-center-chat .bubble');
    assert.equal(await bubble.getAttribute('aria-expanded'), 'false');
    assert.equal(await bubble.getAttribute('aria-label'), 'Open chat');
    await bubble.click();
    const panel = t.page.locator('call-center-chat .panel');
    assert.equal(await panel.getAttribute('role'), 'dialog');
    assert.equal(await bubble.getAttribute('aria-expanded'), 'true');
    assert.equal(await t.page.locator('call-center-chat .log').getAttribute('role'), 'log');
    // Full screen on a narrow phone.
    assert.deepEqual(await panel.boundingBox(), { x: 0, y: 0, width: 375, height: 700 });
    // Focus starts in the composer and Tab stays inside the panel.
    const focused = () => t.page.evaluate(() => document.querySelector('call-center-chat').shadowRoot.activeElement?.tagName);
    assert.equal(await focused(), 'TEXTAREA');
    for (let i = 0; i < 5; i++) {
      await t.page.keyboard.press('Tab');
      const inPanel = await t.page.evaluate(() => {
        const root = document.querySelector('call-center-chat').shadowRoot;
        return !!root.activeElement && root.querySelector('.panel').contains(root.activeElement);
      });
      assert.ok(inPanel, `focus left the panel after ${i + 1} tabs`);
    }
    await t.page.keyboard.press('Escape');
    assert.equal(await panel.isHidden(), true);
    assert.deepEqual(await t.page.evaluate(() => window.__events), ['open', 'close']);
    await t.page.evaluate(() => CallCenterChat.destroy());
    assert.equal(await t.page.locator('call-center-chat').count(), 0);
  } finally { await t.done(); }
});

test('after a cluster bridge outage the widget answers chat.resync with chat.resume', async () => {
  const prefix = `wtest${process.pid}x${Date.now()}`;
  const t = await setup({ init: { user: { email: 'visitor@example.com' } } }, { env: clusterEnv(prefix) });
  try {
    await bridgeUp(t.server.url);
    const frames = [];
    t.page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => frames.push(['in', String(f.payload)]));
      ws.on('framesent', (f) => frames.push(['out', String(f.payload)]));
    });
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    await sendFromWidget(t.page, 'before the outage');
    await t.page.locator('call-center-chat .m.customer:not(.pending)').waitFor();
    assert.equal(killBridge(prefix), 2, 'the node named both of its connections');
    const resynced = () => frames.findIndex(([dir, text]) => dir === 'in' && text.includes('"chat.resync"'));
    for (let i = 0; i < 400 && resynced() < 0; i++) await new Promise((ok) => setTimeout(ok, 25));
    const at = resynced();
    assert.ok(at >= 0, 'the server sent chat.resync');
    assert.match(frames[at][1], /"reason":"bridge_reconnected"/);
    for (let i = 0; i < 200 && !frames.slice(at).some(([d, x]) => d === 'out' && x.includes('"chat.resume"')); i++) {
      await new Promise((ok) => setTimeout(ok, 25));
    }
    const resume = frames.slice(at).find(([d, x]) => d === 'out' && x.includes('"chat.resume"'));
    assert.ok(resume, 'the widget resumed');
    assert.equal(JSON.parse(resume[1]).payload.after_seq, 1, 'from its last seq');
  } finally { await t.done(); forgetPrefix(prefix); }
});

test('ticks show stored, delivered and read, and the widget reports what the visitor saw', async () => {
  const t = await setup();
  try {
    const token = await login(t.server.url);
    const agent = await agentSocket(t.server.url, token);
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    await sendFromWidget(t.page, 'tick me');
    const got = await agent.waitFor((f) => f.type === 'chat.message.new' && f.payload.body === 'tick me');
    const sid = got.payload.session_id;
    const mine = t.page.locator('call-center-chat .m.customer[data-seq="1"]');
    await t.page.locator('call-center-chat .m.customer[data-seq="1"][data-r="1"]').waitFor();
    agent.send('chat.message.delivered', { session_id: sid, seq: 1 });
    await t.page.locator('call-center-chat .m.customer[data-seq="1"][data-r="2"]').waitFor();
    agent.send('chat.message.read', { session_id: sid, seq: 1 });
    await t.page.locator('call-center-chat .m.customer[data-seq="1"][data-r="3"]').waitFor();
    const tick = await mine.evaluate((n) => getComputedStyle(n, '::after').content);
    assert.match(tick, /\u2713\u2713/);

    // The agent's reply: the open, focused widget reports it delivered and read.
    await agentSend(t.server.url, token, sid, 'seen?');
    const read = await agent.waitFor((f) => f.type === 'chat.receipt' && f.payload.side === 'customer' && f.payload.read_seq >= 2);
    assert.equal(read.payload.delivered_seq, 2);
    // A reload keeps the ticks: the pointers come from the server.
    await t.page.reload();
    await t.page.locator('call-center-chat .bubble').click();
    await t.page.locator('call-center-chat .m.customer[data-seq="1"][data-r="3"]').waitFor();
    agent.close();
  } finally { await t.done(); }
});

test('a returning visitor starts anew after a closed chat and reads the earlier one', async () => {
  const t = await setup();
  try {
    const token = await login(t.server.url);
    const agent = await agentSocket(t.server.url, token);
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    await sendFromWidget(t.page, 'my kettle broke');
    const first = await agent.waitFor((f) => f.type === 'chat.message.new' && f.payload.body === 'my kettle broke');
    const sid = first.payload.session_id;
    await agentSend(t.server.url, token, sid, 'we will replace it');
    const href = await t.page.locator('call-center-chat .dl').getAttribute('href');
    assert.match(href, /\/api\/v1\/public\/chat\/sessions\/[0-9a-f]{64}\/transcript\?format=txt$/);
    const file = await (await fetch(href)).text();
    assert.match(file, /my kettle broke[\s\S]*we will replace it/);

    const closed = await fetch(`${t.server.url}/api/v1/chat/sessions/${sid}/close`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(closed.status, 200);
    await t.page.locator('call-center-chat .again', { hasText: 'Start a new conversation' }).click();
    await sendFromWidget(t.page, 'another question');
    const second = await agent.waitFor((f) => f.type === 'chat.message.new' && f.payload.body === 'another question');
    assert.notEqual(second.payload.session_id, sid);
    // The same customer: the agents see the first conversation in the history.
    const hist = await (await fetch(`${t.server.url}/api/v1/chat/sessions/${second.payload.session_id}/history`, { headers: { authorization: `Bearer ${token}` } })).json();
    assert.deepEqual(hist.sessions.map((s) => s.id), [sid]);

    await t.page.locator('call-center-chat .hb').click();
    const earlier = t.page.locator(`call-center-chat .hl button[data-session="${sid}"]`);
    await earlier.waitFor();
    assert.match(await earlier.textContent(), /we will replace it/);
    assert.equal(await t.page.locator('call-center-chat .hl button.s').count(), 1);
    await earlier.click();
    await t.page.locator('call-center-chat .hl .m.customer', { hasText: 'my kettle broke' }).waitFor();
    await t.page.locator('call-center-chat .hl .m.agent', { hasText: 'we will replace it' }).waitFor();
    agent.close();
  } finally { await t.done(); }
});

test('a refused file says why, an upload can be cancelled, and a sent image opens full size', async () => {
  // Nobody is online: the snippet knows the visitor's email, which the
  // server requires of a browser then.
  const t = await setup({ init: { user: { email: 'visitor@example.com' } } });
  try {
    const { page } = t;
    await page.goto(t.host.url);
    await page.locator('call-center-chat .bubble').click();
    const file = page.locator('call-center-chat input[type=file]');
    // An executable renamed .png is refused with the server's reason.
    await file.setInputFiles({ name: 'setup.png', mimeType: 'image/png', buffer: Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff', 'latin1') });
    const refused = page.locator('call-center-chat .m.failed', { hasText: 'could not be sent' });
    await refused.waitFor();
    assert.match(await refused.textContent(), /not accepted/);
    // A slow upload shows its progress bar and goes away when cancelled.
    await page.route('**/attachments', () => { /* never answered */ });
    await file.setInputFiles({ name: 'slow.txt', mimeType: 'text/plain', buffer: Buffer.from('slow') });
    const card = page.locator('call-center-chat .up', { hasText: 'slow.txt' });
    await card.locator('progress').waitFor();
    await card.getByRole('button', { name: 'Cancel' }).click();
    await card.waitFor({ state: 'detached' });
    await page.unroute('**/attachments');
    // An image arrives as a thumbnail whose link opens the full file.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
    await file.setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: png });
    const link = page.locator('call-center-chat .m.customer a.i');
    await link.locator('img[alt="photo.png"]').waitFor();
    const href = await link.getAttribute('href');
    assert.ok(href.startsWith(t.server.url + '/api/v1/files/'), href);
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.deepEqual(t.dialogs, []);
  } finally {
    await t.done();
  }
});

test('the server sets the look, the widget says when the team is away, and asks for a rating after the agent closes', async () => {
  const t = await setup({}, {});
  try {
    const token = await login(t.server.url);
    const put = (path, body) => fetch(`${t.server.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    assert.equal((await put('/api/v1/settings/widget', { name: 'Acme help', greeting: 'Hello from the server', primary_color: '#0f766e', offline_message: 'Nobody here right now' })).status, 200);
    const { page } = t;
    await page.goto(t.host.url);
    await page.locator('call-center-chat .bubble').click();
    await page.locator('call-center-chat .head h2', { hasText: 'Acme help' }).waitFor();
    assert.equal(await page.locator('call-center-chat .head').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(15, 118, 110)');
    // No agent is connected: the offline message, and the pre-chat form
    // asks for the email (required while away), the name being optional.
    await page.locator('call-center-chat .off', { hasText: 'Nobody here right now' }).waitFor();
    const form = page.locator('call-center-chat form.pc');
    assert.equal(await page.locator('call-center-chat textarea').isVisible(), false);
    await form.getByLabel('Your email *').fill('ada@example.com');
    await form.getByLabel('Your name').fill('Ada');
    await form.getByRole('button', { name: 'Start chat' }).click();
    await sendFromWidget(page, 'hello, anyone?');
    await page.locator('call-center-chat .m.customer[data-seq="1"]').waitFor();
    const sessions = await (await fetch(`${t.server.url}/api/v1/chat/sessions`, { headers: { authorization: `Bearer ${token}` } })).json();
    const s = sessions.sessions.find((x) => x.last_message_preview === 'hello, anyone?');
    assert.deepEqual([s.customer.email, s.customer.name, s.offline], ['ada@example.com', 'Ada', true]);
    // The agent closes: the widget asks for a rating.
    const closed = await fetch(`${t.server.url}/api/v1/chat/sessions/${s.id}/close`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(closed.status, 200);
    const rate = page.locator('call-center-chat .rt');
    await rate.getByRole('button', { name: '4 of 5' }).click();
    await rate.getByLabel('Anything to add? (optional)').fill('kind and quick');
    await rate.getByRole('button', { name: 'Send rating' }).click();
    await rate.filter({ hasText: 'Thank you for your rating.' }).waitFor();
    const after = await (await fetch(`${t.server.url}/api/v1/chat/sessions/${s.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
    assert.deepEqual([after.session.rating.score, after.session.rating.comment], [4, 'kind and quick']);
  } finally {
    await t.done();
  }
});

test('a visitor who left gets the reply by email, its link brings the conversation back, and the transcript follows the end', async () => {
  const mail = await smtpSink();
  const t = await setup({}, { env: mail.env });
  try {
    const token = await login(t.server.url);
    // Nobody is online: the form asks for the email first.
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    const form = t.page.locator('call-center-chat form.pc');
    await form.getByLabel('Your email *').fill('rita@example.com');
    await form.getByRole('button', { name: 'Start chat' }).click();
    await sendFromWidget(t.page, 'Is my order shipped?');
    await t.page.locator('call-center-chat .m.customer[data-seq="1"]').waitFor();
    await t.context.close();
    // The agent answers after the visitor left.
    const list = await (await fetch(`${t.server.url}/api/v1/chat/sessions`, { headers: { authorization: `Bearer ${token}` } })).json();
    const s = list.sessions.find((x) => x.customer.email === 'rita@example.com');
    assert.equal(s.offline, true);
    await fetch(`${t.server.url}/api/v1/chat/sessions/${s.id}/assign`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    await agentSend(t.server.url, token, s.id, 'Yes, it left today.');
    const [reply] = await mail.waitFor(1);
    assert.match(reply, /To: rita@example.com/);
    assert.match(reply, /Yes, it left today\./);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/\?parley_resume=[\w.-]+)/.exec(reply)[1];
    // Another browser (no stored key) follows the link.
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(link);
      await page.locator('call-center-chat .m.agent', { hasText: 'Yes, it left today.' }).waitFor();
      await page.locator('call-center-chat .m.customer', { hasText: 'Is my order shipped?' }).waitFor();
      assert.equal(new URL(page.url()).search, '', 'the token leaves the address');
      // The key stays in this browser: a reload needs no link.
      await page.reload();
      await page.locator('call-center-chat .bubble').click();
      await page.locator('call-center-chat .m.agent', { hasText: 'Yes, it left today.' }).waitFor();
      // The end, with the transcript by email (ticked, since the address is known).
      const box = page.locator('call-center-chat .tr input[type=checkbox]');
      assert.equal(await box.isChecked(), true);
      await page.locator('call-center-chat .end').click();
      await page.locator('call-center-chat .rt').waitFor();
      const mails = await mail.waitFor(2);
      assert.match(mails[1], /transcript of your conversation/);
      assert.match(mails[1], /Is my order shipped\?/);
    } finally {
      await context.close();
    }
  } finally {
    await t.host.close();
    await t.server.stop();
    t.server.cleanup();
    mail.close();
  }
});

test('the pre-chat form asks what the team requires, and the server\'s refusal is shown', async () => {
  const t = await setup({ init: { user: { email: 'sam@example.com' } } });
  try {
    const token = await login(t.server.url);
    const put = await fetch(`${t.server.url}/api/v1/settings/widget`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ prechat: { name: 'required', email: 'optional', fields: [{ key: 'plan', label: 'Your plan', required: true, choices: ['free', 'pro'] }] } }),
    });
    assert.equal(put.status, 200);
    await t.page.goto(t.host.url);
    await t.page.locator('call-center-chat .bubble').click();
    const form = t.page.locator('call-center-chat form.pc');
    await form.getByLabel('Your name *').waitFor();
    assert.equal(await form.getByLabel('Your email').count(), 0, 'the snippet gave the email');
    assert.equal(await t.page.locator('call-center-chat textarea').isVisible(), false);
    // Required answers missing: the browser keeps the form.
    await form.getByRole('button', { name: 'Start chat' }).click();
    assert.equal(await form.isVisible(), true);
    await form.getByLabel('Your name *').fill('Sam');
    await form.getByLabel('Your plan *').selectOption('pro');
    await form.getByRole('button', { name: 'Start chat' }).click();
    await sendFromWidget(t.page, 'Hello');
    await t.page.locator('call-center-chat .m.customer[data-seq="1"]').waitFor();
    const list = await (await fetch(`${t.server.url}/api/v1/chat/sessions`, { headers: { authorization: `Bearer ${token}` } })).json();
    const s = list.sessions.find((x) => x.last_message_preview === 'Hello');
    assert.deepEqual([s.customer.name, s.customer.attributes.plan], ['Sam', 'pro']);
    // The team adds a required question while another visitor types: the
    // server refuses the start, and the form comes back saying why.
    const other = await browser.newContext();
    try {
      const page = await other.newPage();
      await page.goto(t.host.url);
      await page.locator('call-center-chat .bubble').click();
      await page.locator('call-center-chat form.pc').getByLabel('Your name *').fill('Kim');
      await page.locator('call-center-chat form.pc').getByLabel('Your plan *').selectOption('free');
      await fetch(`${t.server.url}/api/v1/settings/widget`, {
        method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ prechat: { name: 'required', email: 'optional', fields: [{ key: 'plan', label: 'Your plan', required: true, choices: ['free', 'pro'] }, { key: 'order', label: 'Order number', required: true }] } }),
      });
      await page.locator('call-center-chat form.pc').getByRole('button', { name: 'Start chat' }).click();
      await sendFromWidget(page, 'Hi there');
      await page.locator('call-center-chat .pe', { hasText: 'order is required' }).waitFor();
    } finally {
      await other.close();
    }
  } finally {
    await t.done();
  }
});
