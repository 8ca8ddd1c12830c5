// Two agents in two browser contexts and a customer in the real widget,
// against the real server. Shares the widget's harness (server, browser).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  startServer, hostPage, widgetPage, launch, explained, clusterEnv, bridgeUp, killBridge, forgetPrefix, login, setBot, smtpSink,
} from '../../widget/test/helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function signIn(context, api, email) {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.goto(`${api}/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('Test@1234');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.live.live').waitFor();
  return page;
}

function conversation(page, text) {
  return page.locator('.conv', { hasText: text });
}

async function threadSeqs(page) {
  return page.locator('.messages .msg[data-seq]').evaluateAll((nodes) => nodes.map((n) => ({
    seq: Number(n.getAttribute('data-seq')), body: n.querySelector('.body')?.textContent, bot: n.classList.contains('bot'),
  })));
}

test('two agents and a customer work one conversation live, and nothing is lost across a cut', async () => {
  const server = await startServer();
  let server2;
  const host = await hostPage(widgetPage(server.url));
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  const ctxC = await browser.newContext();
  try {
    await explained(() => [server, server2], async () => {
      const a = await signIn(ctxA, server.url, 'agent@demo.com');
      const b = await signIn(ctxB, server.url, 'alex@demo.com');
      const customer = await ctxC.newPage();
      await customer.goto(host.url);
      await customer.locator('call-center-chat .bubble').click();
      const input = customer.locator('call-center-chat textarea');
      await input.fill('I need help with my order');
      await input.press('Enter');

      // It appears in both dashboards without a reload (its preview is the
      // demo bot's hand-off note by then, or the customer's words).
      for (const page of [a, b]) await page.locator('.conv').first().waitFor();

      // A assigns it to herself; B sees the assignment.
      await a.locator('.conv').first().click();
      await a.locator('.msg.customer', { hasText: 'I need help with my order' }).waitFor();
      await a.locator('.msg.bot').waitFor();
      await a.locator('.customer dd', { hasText: 'Chrome' }).first().waitFor();
      await a.getByRole('button', { name: 'Assign to me' }).click();
      await conversation(b, 'Demo Agent').waitFor();

      // A replies; it appears in the widget.
      await a.locator('#composer').fill('Happy to help! What is the order number?');
      await a.locator('#composer').press('Enter');
      await customer.locator('call-center-chat .m.agent', { hasText: 'What is the order number?' }).waitFor();
      await a.locator('.msg.agent:not(.pending)', { hasText: 'What is the order number?' }).waitFor();

      // B transfers it to himself; A sees the transfer.
      await conversation(b, 'What is the order number?').click();
      await b.getByLabel('Transfer to').selectOption({ label: '○ Alex Kim' }).catch(() => b.getByLabel('Transfer to').selectOption({ label: '● Alex Kim' }));
      await a.locator('.assignee', { hasText: 'Assigned to Alex Kim' }).waitFor();

      await a.screenshot({ path: join(import.meta.dirname, '..', '..', 'docs', 'dashboard.png') });

      // Idle with the socket up: no HTTP requests at all.
      const requests = [];
      a.on('request', (r) => requests.push(r.url()));
      await new Promise((r) => setTimeout(r, 30000));
      assert.deepEqual(requests, [], 'no polling while the socket is up');

      // The server drops every socket (a restart on the same port and
      // database); the customer sends while A is away.
      const key = await customer.evaluate(() => localStorage.getItem('callcenterchat:demo-tenant:session'));
      await server.stop();
      await a.locator('.live.reconnecting, .live.offline').first().waitFor();
      server2 = await startServer({ port: server.port, dataDir: server.dataDir });
      for (const body of ['order 1234', 'it was due Monday', 'thanks']) {
        const res = await fetch(`${server2.url}/api/v1/public/chat/sessions/${key}/messages`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body }),
        });
        assert.equal(res.status, 201);
      }
      await a.locator('.live.live').waitFor({ timeout: 30000 });
      await a.locator('.msg', { hasText: 'thanks' }).waitFor({ timeout: 30000 });
      const shown = await threadSeqs(a);
      // Every stored message once, in order, with no gap (the demo bot's
      // hand-off note included).
      assert.deepEqual(shown.map((m) => m.seq), shown.map((_, i) => i + 1));
      const people = shown.filter((m) => !m.bot).map((m) => m.body);
      assert.deepEqual(people, ['I need help with my order', 'Happy to help! What is the order number?', 'order 1234', 'it was due Monday', 'thanks']);
      assert.equal(shown.filter((m) => m.bot).length, 1, 'the bot handed off once and stayed silent');
    });
  } finally {
    await ctxA.close(); await ctxB.close(); await ctxC.close();
    await host.close();
    await server2?.stop();
    await server.stop();
    server.cleanup();
  }
});

test('a wrong password shows a clear error', async () => {
  const server = await startServer();
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.goto(`${server.url}/`);
    await page.getByLabel('Email').fill('agent@demo.com');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.textContent(), 'Wrong email or password.');
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
  }
});

test('an admin adds an agent, promotes and deactivates them on the Team page, and changes their password', async () => {
  const server = await startServer();
  const ctx = await browser.newContext();
  try {
    const page = await signIn(ctx, server.url, 'agent@demo.com');
    await page.getByRole('button', { name: 'Team' }).click();
    const table = page.getByRole('table', { name: 'Agents' });
    await table.locator('tr[data-email="alex@demo.com"]').waitFor();

    const add = page.getByRole('form', { name: 'Add an agent' });
    await add.getByLabel('Name').fill('Cy Young');
    await add.getByLabel("New agent's email").fill('cy@demo.com');
    await add.getByLabel('Initial password').fill('Cy-password-1');
    await add.getByRole('button', { name: 'Add agent' }).click();
    const row = table.locator('tr[data-email="cy@demo.com"]');
    await row.waitFor();

    await row.getByLabel('Role of Cy Young').selectOption('admin');
    await page.waitForFunction(() => document.querySelector('tr[data-email="cy@demo.com"] select')?.value === 'admin');
    const login = async (password) => (await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'cy@demo.com', password }),
    }));
    const res = await login('Cy-password-1');
    assert.equal(res.status, 200);
    assert.equal((await res.json()).agent.role, 'admin');

    await row.getByRole('button', { name: 'Deactivate Cy Young' }).click();
    await row.getByRole('button', { name: 'Reactivate Cy Young' }).waitFor();
    assert.equal(await row.locator('.state').textContent(), 'Deactivated');
    assert.equal((await login('Cy-password-1')).status, 401);

    const pw = page.getByRole('form', { name: 'Change your password' });
    await pw.getByLabel('Current password').fill('Test@1234');
    await pw.getByLabel('New password').fill('A-new-password-2');
    await pw.getByRole('button', { name: 'Change password' }).click();
    await pw.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();
    const again = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'agent@demo.com', password: 'A-new-password-2' }),
    });
    assert.equal(again.status, 200);
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
  }
});

test('the API reference at /api/docs renders the OpenAPI document from the server alone', async () => {
  const server = await startServer();
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    const outside = [];
    page.on('request', (r) => { if (!r.url().startsWith(server.url)) outside.push(r.url()); });
    await page.goto(`${server.url}/api/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/api/v1/webhooks' }).first().waitFor();
    const title = await page.locator('.info .title').textContent();
    assert.match(title ?? '', /Parley chat API/);
    assert.deepEqual(outside, [], 'nothing is loaded from elsewhere');
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
  }
});

test('after a cluster bridge outage the dashboard resumes its conversations and reloads the list', async () => {
  const prefix = `dtest${process.pid}x${Date.now()}`;
  const server = await startServer({ env: clusterEnv(prefix) });
  const ctx = await browser.newContext();
  try {
    await bridgeUp(server.url);
    const json = { 'content-type': 'application/json' };
    const start = await (await fetch(`${server.url}/api/v1/public/chat/sessions`, {
      method: 'POST', headers: json, body: JSON.stringify({ tenant_id: 'demo-tenant', customer: { name: 'Rita' } }),
    })).json();
    await fetch(`${server.url}/api/v1/public/chat/sessions/${start.session_key}/messages`, {
      method: 'POST', headers: json, body: JSON.stringify({ body: 'hello from Rita' }),
    });
    const page = await ctx.newPage();
    // Frames and requests in the order they happened.
    const frames = [];
    page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => frames.push(['in', String(f.payload)]));
      ws.on('framesent', (f) => frames.push(['out', String(f.payload)]));
    });
    page.on('request', (r) => frames.push(['req', r.url()]));
    await page.setViewportSize({ width: 1280, height: 760 });
    await page.goto(`${server.url}/`);
    await page.getByLabel('Email').fill('agent@demo.com');
    await page.getByLabel('Password').fill('Test@1234');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.live.live').waitFor();
    await conversation(page, 'Rita').click();
    await page.locator('.msg.customer', { hasText: 'hello from Rita' }).waitFor();

    assert.equal(killBridge(prefix), 2, 'the node named both of its connections');
    const wait = async (ok) => { for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 25)); };
    const resynced = () => frames.findIndex(([dir, text]) => dir === 'in' && text.includes('"chat.resync"'));
    await wait(() => resynced() >= 0);
    const at = resynced();
    assert.ok(at >= 0, 'the server sent chat.resync');
    const resumed = () => frames.slice(at).find(([d, x]) => d === 'out' && x.includes('"chat.resume"'));
    await wait(() => Boolean(resumed()));
    assert.ok(resumed(), 'the dashboard resumed');
    assert.equal(JSON.parse(resumed()[1]).payload.session_id, start.session.id);
    const isList = ([d, u]) => d === 'req' && /\/api\/v1\/chat\/sessions(\?|$)/.test(u);
    await wait(() => frames.slice(at).some(isList));
    assert.ok(frames.slice(at).some(isList), 'the conversation list was reloaded after the resync');
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
    forgetPrefix(prefix);
  }
});

test('a message that goes out live while a conversation\'s first page loads is shown, once', async () => {
  const server = await startServer();
  const ctx = await browser.newContext();
  try {
    await explained(() => [server], async () => {
      await setBot(server.url, await login(server.url), 'off');
      const post = (path, body) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const started = await (await post('/api/v1/public/chat/sessions', { tenant_id: 'demo-tenant', customer: { name: 'Una Race' } })).json();
      const key = started.session_key;
      assert.equal((await post(`/api/v1/public/chat/sessions/${key}/messages`, { body: 'first words' })).status, 201);
      const a = await signIn(ctx, server.url, 'agent@demo.com');
      await conversation(a, 'Una Race').waitFor();

      // The thread's first page is read now and answered only after the
      // next message has gone out to this dashboard live.
      let pageRead;
      const read = new Promise((ok) => { pageRead = ok; });
      let release;
      const released = new Promise((ok) => { release = ok; });
      await a.route('**/api/v1/chat/sessions/*/messages?before_seq=*', async (route) => {
        const response = await route.fetch();
        pageRead();
        await released;
        await route.fulfill({ response });
      }, { times: 1 });
      await conversation(a, 'Una Race').click();
      await read;
      assert.equal((await post(`/api/v1/public/chat/sessions/${key}/messages`, { body: 'while it loads' })).status, 201);
      // The list's preview shows the live event has arrived.
      await conversation(a, 'while it loads').waitFor();
      release();

      await a.locator('.msg.customer', { hasText: 'while it loads' }).waitFor();
      await a.locator('.msg.customer', { hasText: 'first words' }).waitFor();
      assert.deepEqual((await threadSeqs(a)).map((m) => [m.seq, m.body]), [[1, 'first words'], [2, 'while it loads']]);
    });
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
  }
});

test('unread badges are the team\'s, ticks show what the customer saw, and search jumps to the message', async () => {
  const server = await startServer();
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  try {
    await setBot(server.url, await login(server.url), 'off');
    const post = (path, body) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const started = await (await post('/api/v1/public/chat/sessions', { tenant_id: 'demo-tenant', customer: { name: 'Zed Quill' } })).json();
    const key = started.session_key;
    for (const body of ['where is my parcel', 'also a kettle warranty question']) {
      assert.equal((await post(`/api/v1/public/chat/sessions/${key}/messages`, { body })).status, 201);
    }
    const a = await signIn(ctxA, server.url, 'agent@demo.com');
    const b = await signIn(ctxB, server.url, 'alex@demo.com');
    for (const page of [a, b]) await conversation(page, 'Zed Quill').locator('.unread', { hasText: '2' }).waitFor();
    await b.reload();
    await conversation(b, 'Zed Quill').locator('.unread', { hasText: '2' }).waitFor();

    // A reads it: the badge goes for B too, live and after a reload.
    await a.bringToFront();
    await conversation(a, 'Zed Quill').click();
    await a.locator('.msg.customer', { hasText: 'kettle warranty' }).waitFor();
    await conversation(b, 'Zed Quill').locator('.unread').waitFor({ state: 'detached' });
    await b.reload();
    await conversation(b, 'Zed Quill').waitFor();
    assert.equal(await conversation(b, 'Zed Quill').locator('.unread').count(), 0);

    // A replies: one tick; the customer reads it: two, and "Seen".
    await a.locator('#composer').fill('It ships tomorrow');
    await a.locator('#composer').press('Enter');
    await a.locator('.msg.agent[data-seq="3"][data-r="1"]').waitFor();
    assert.equal((await post(`/api/v1/public/chat/sessions/${key}/read`, { seq: 3 })).status, 200);
    await a.locator('.msg.agent[data-seq="3"][data-r="3"]').waitFor();
    await a.locator('.msg.agent[data-seq="3"] .seen', { hasText: 'Seen' }).waitFor();

    // Search as you type: a message hit with its snippet, and a jump to it.
    await b.bringToFront();
    await b.getByLabel('Search conversations').fill('kett');
    const hit = b.locator('.hit', { hasText: 'warranty' });
    await hit.waitFor();
    assert.equal(await hit.locator('mark').first().textContent(), 'kettle');
    await hit.locator('button').click();
    await b.locator('.msg.found[data-seq="2"]', { hasText: 'kettle warranty' }).waitFor();
  } finally {
    await ctxA.close();
    await ctxB.close();
    await server.stop();
    server.cleanup();
  }
});

test('canned replies by "/", internal notes the customer never sees, and labels', async () => {
  const server = await startServer();
  const ctx = await browser.newContext();
  try {
    await setBot(server.url, await login(server.url), 'off');
    const post = (path, body) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const started = await (await post('/api/v1/public/chat/sessions', { tenant_id: 'demo-tenant', customer: { name: 'Nia Park' } })).json();
    const key = started.session_key;
    await post(`/api/v1/public/chat/sessions/${key}/messages`, { body: 'my refund is late' });

    // The admin sets up a canned reply and a label on the Team page.
    const page = await signIn(ctx, server.url, 'agent@demo.com');
    await page.getByRole('button', { name: 'Team' }).click();
    const canned = page.getByRole('form', { name: 'Canned replies' });
    await canned.getByLabel('Shortcut').fill('refund');
    await canned.getByLabel('Title').fill('Refund timing');
    await canned.getByLabel(/^Text/).fill('Hi {{customer.name}}, refunds take 5 days. {{agent.name}}');
    await canned.getByRole('button', { name: 'Add canned reply' }).click();
    await canned.locator('li', { hasText: '/refund' }).waitFor();
    const labels = page.getByRole('form', { name: 'Labels' });
    await labels.getByLabel('Label name').fill('billing');
    await labels.getByRole('button', { name: 'Add label' }).click();
    await labels.locator('.chip', { hasText: 'billing' }).waitFor();
    await page.getByRole('button', { name: 'Inbox' }).click();

    await conversation(page, 'Nia Park').click();
    await page.locator('.msg.customer', { hasText: 'my refund is late' }).waitFor();
    // "/" opens the picker; Enter inserts the filled-in reply.
    await page.locator('#composer').fill('/ref');
    await page.getByRole('listbox', { name: 'Canned replies' }).locator('li', { hasText: '/refund' }).waitFor();
    await page.locator('#composer').press('Enter');
    const me = await page.locator('.top .me').textContent();
    assert.equal(await page.locator('#composer').inputValue(), `Hi Nia Park, refunds take 5 days. ${me}`);
    await page.locator('#composer').press('Enter');
    await page.locator('.msg.agent', { hasText: 'refunds take 5 days' }).waitFor();

    // An internal note: shown as one, never in the customer's thread.
    await page.getByRole('tab', { name: 'Internal note' }).click();
    await page.locator('#composer').fill('INTERNAL check the order');
    await page.locator('#composer').press('Enter');
    await page.locator('.msg.note', { hasText: 'INTERNAL check the order' }).locator('.internal').waitFor();
    const seen = await (await fetch(`${server.url}/api/v1/public/chat/sessions/${key}/messages`)).json();
    assert.deepEqual(seen.messages.map((m) => m.seq), [1, 2]);
    assert.ok(seen.messages.every((m) => !m.body.includes('INTERNAL')));

    // A label: a chip on the thread and in the list.
    await page.getByLabel('Add label').selectOption('billing');
    await page.locator('.thread-head .chip', { hasText: 'billing' }).waitFor();
    await conversation(page, 'Nia Park').locator('.chip', { hasText: 'billing' }).waitFor();
    await page.getByRole('button', { name: 'Remove label billing' }).click();
    await page.locator('.thread-head .chip').waitFor({ state: 'detached' });
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
  }
});

test('the status switch, the team\'s availability, the queue, and automatic assignment when an agent comes online', async () => {
  const server = await startServer();
  const adminCtx = await browser.newContext();
  const alexCtx = await browser.newContext();
  try {
    const adminToken = await login(server.url);
    await setBot(server.url, adminToken, 'off');
    const alexToken = await login(server.url, 'alex@demo.com');
    const put = (path, token, body) => fetch(`${server.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    assert.equal((await put('/api/v1/agents/me/status', alexToken, { status: 'away' })).status, 200);
    const adminId = (await (await fetch(`${server.url}/api/v1/agents/me`, { headers: { authorization: `Bearer ${adminToken}` } })).json()).agent.id;

    // The admin turns automatic assignment on, two conversations each. The
    // stored settings are held back at first: until they arrive the fields
    // cannot be changed (a late answer would undo the admin's changes).
    const admin = await signIn(adminCtx, server.url, 'agent@demo.com');
    let release;
    const released = new Promise((ok) => { release = ok; });
    await admin.route('**/api/v1/settings/assignment', async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const response = await route.fetch();
      await released;
      await route.fulfill({ response });
    });
    await admin.getByRole('button', { name: 'Team' }).click();
    const form = admin.getByRole('form', { name: 'Assignment' });
    assert.equal(await form.getByLabel('Assignment mode').isDisabled(), true);
    release();
    await form.getByLabel('Assignment mode').selectOption('auto');
    await form.getByLabel(/Default most conversations/).fill('2');
    await form.getByRole('button', { name: 'Save assignment' }).click();
    await form.getByRole('status').filter({ hasText: 'least busy' }).waitFor();
    await admin.getByRole('button', { name: 'Inbox' }).click();
    await admin.locator('.live.live').waitFor();
    await admin.getByLabel('Your status').selectOption('away');

    // Alex sees the admin away, and is away too.
    const alex = await signIn(alexCtx, server.url, 'alex@demo.com');
    assert.equal(await alex.getByLabel('Your status').inputValue(), 'away');
    const adminRow = alex.locator(`.teammates li[data-agent-id="${adminId}"]`);
    await adminRow.and(alex.locator('[data-state="away"]')).waitFor();

    // Nobody takes work: a new conversation waits, first in line, on both.
    const res = await fetch(`${server.url}/api/v1/public/chat/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant_id: 'demo-tenant', customer: { name: 'Quinn Queue' } }) });
    assert.equal(res.status, 201);
    for (const page of [admin, alex]) {
      await page.locator('.queue li', { hasText: 'Quinn Queue' }).filter({ hasText: '#1' }).waitFor();
    }

    // The admin comes online: the conversation is theirs at once, the
    // queue empties everywhere, and Alex sees the admin online with it.
    await admin.getByLabel('Your status').selectOption('online');
    const me = (await admin.locator('.top .me').textContent()) ?? '';
    await conversation(admin, 'Quinn Queue').locator('.meta', { hasText: me }).waitFor();
    for (const page of [admin, alex]) {
      await page.locator('.queue li', { hasText: 'Quinn Queue' }).waitFor({ state: 'detached' });
    }
    await adminRow.and(alex.locator('[data-state="online"]')).waitFor();
    await adminRow.filter({ hasText: '1/2' }).waitFor();
  } finally {
    await adminCtx.close();
    await alexCtx.close();
    await server.stop();
    server.cleanup();
  }
});

test('a visitor attaches images by the button and by paste, the agent sees them live and downloads them, a hostile file name stays text', async () => {
  const server = await startServer();
  const host = await hostPage(widgetPage(server.url));
  const agentCtx = await browser.newContext();
  const customerCtx = await browser.newContext();
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');
  try {
    await setBot(server.url, await login(server.url), 'off');
    const agent = await signIn(agentCtx, server.url, 'agent@demo.com');
    const customer = await customerCtx.newPage();
    await customer.goto(host.url);
    await customer.locator('call-center-chat .bubble').click();

    // By the button: a thumbnail in the widget, live in the dashboard.
    await customer.locator('call-center-chat input[type=file]').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: png });
    await customer.locator('call-center-chat .m.customer img[alt="photo.png"]').waitFor();
    await agent.locator('.conv').first().click();
    const thumb = agent.locator('.msg.customer .files .thumb img[alt="photo.png"]');
    await thumb.waitFor();
    const href = await agent.locator('.msg.customer .files .thumb').first().getAttribute('href');
    const got = await agent.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), size: (await r.arrayBuffer()).byteLength };
    }, href);
    assert.deepEqual(got, { status: 200, type: 'image/png', disposition: "inline; filename*=UTF-8''photo.png", size: png.length });
    assert.ok(await thumb.evaluate((img) => img.complete && img.naturalWidth === 1), 'the thumbnail loaded');

    // By paste: a second one arrives without a reload.
    await customer.locator('call-center-chat textarea').evaluate((el, bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, [...png]);
    await agent.locator('.msg.customer .files .thumb img[alt="pasted.png"]').waitFor();
    await customer.locator('call-center-chat .m.customer img[alt="pasted.png"]').waitFor();

    // A hostile name is a file card of plain text on both sides.
    const hostile = '<img src=x onerror=alert(1)>.txt';
    await customer.locator('call-center-chat input[type=file]').setInputFiles({ name: hostile, mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await customer.locator('call-center-chat .m.customer a.f', { hasText: hostile }).waitFor();
    await agent.locator('.msg.customer .files .file', { hasText: hostile }).waitFor();
    assert.equal(await agent.locator('img[src="x"]').count(), 0);
    assert.equal(await customer.locator('call-center-chat img[src="x"]').count(), 0);
    // The customer panel lists the conversation's files, live.
    await agent.getByRole('list', { name: 'Files in this conversation' }).locator('li', { hasText: 'pasted.png' }).waitFor();

    // The agent sends one back from the composer.
    await agent.getByLabel('Attach a file').setInputFiles({ name: 'label.png', mimeType: 'image/png', buffer: png });
    await customer.locator('call-center-chat .m.agent img[alt="label.png"]').waitFor();
  } finally {
    await agentCtx.close();
    await customerCtx.close();
    await host.close();
    await server.stop();
    server.cleanup();
  }
});

test('the widget settings page previews colour and greeting live and the widget shows them', async () => {
  const server = await startServer();
  const host = await hostPage(widgetPage(server.url));
  const ctx = await browser.newContext();
  try {
    const page = await signIn(ctx, server.url, 'agent@demo.com');
    await page.getByRole('button', { name: 'Team' }).click();
    const form = page.getByRole('form', { name: 'Widget' });
    await form.getByLabel('Greeting').fill('Welcome to Demo support');
    await form.getByLabel('Colour').fill('#be123c');
    const preview = form.getByLabel('Preview');
    await preview.locator('.preview-body', { hasText: 'Welcome to Demo support' }).waitFor();
    assert.equal(await preview.locator('.preview-head').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(190, 18, 60)');
    await form.getByRole('button', { name: 'Save widget' }).click();
    await form.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const customer = await ctx.newPage();
    await customer.goto(host.url);
    await customer.locator('call-center-chat .bubble').click();
    await customer.locator('call-center-chat .note', { hasText: 'Welcome to Demo support' }).waitFor();
    assert.equal(await customer.locator('call-center-chat .bubble').evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(190, 18, 60)');
  } finally {
    await ctx.close();
    await host.close();
    await server.stop();
    server.cleanup();
  }
});

test('the Reports page shows the period\'s figures, charts per day, the agents, an agent\'s own view and the CSV', async () => {
  const server = await startServer();
  const ctx = await browser.newContext({ acceptDownloads: true });
  try {
    const admin = await login(server.url);
    // A conversation Alex answers today, on top of the demo's.
    const alex = await login(server.url, 'alex@demo.com');
    const started = await fetch(`${server.url}/api/v1/public/chat/sessions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant_id: 'demo-tenant', customer: { name: 'Rita Report' } }),
    }).then((r) => r.json());
    const sid = started.session.id;
    const assigned = await fetch(`${server.url}/api/v1/chat/sessions/${sid}/assign`, {
      method: 'POST', headers: { Authorization: `Bearer ${alex}` },
    });
    assert.equal(assigned.status, 200);
    const sent = await fetch(`${server.url}/api/v1/chat/sessions/${sid}/messages`, {
      method: 'POST', headers: { Authorization: `Bearer ${alex}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ body: 'Hello Rita' }),
    });
    assert.equal(sent.status, 201);
    const api = (token, q = '') => fetch(`${server.url}/api/v1/reports/summary${q}`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json());
    const all = (await api(admin)).report;
    const mine = (await api(alex)).report;
    assert.ok(mine.totals.conversations >= 1);

    const page = await signIn(ctx, server.url, 'agent@demo.com');
    await page.getByRole('button', { name: 'Reports' }).click();
    const conversations = page.locator('.card[data-figure="Conversations"] .card-v');
    await conversations.filter({ hasText: String(all.totals.conversations) }).waitFor();
    const perDay = page.getByRole('figure', { name: 'Conversations per day' });
    const days = await perDay.locator('g[data-date]').evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-date'), Number(g.getAttribute('data-value'))]));
    assert.deepEqual(days, all.days.map((d) => [d.date, d.conversations]));
    const alexMe = await fetch(`${server.url}/api/v1/agents/me`, { headers: { Authorization: `Bearer ${alex}` } }).then((r) => r.json());
    const alexId = alexMe.agent.id;
    await page.locator(`tr[data-agent="${alexId}"] .conversations`).filter({ hasText: String(mine.totals.conversations) }).waitFor();

    // One agent's figures, picked by the admin.
    await page.getByLabel('Agent', { exact: true }).selectOption(alexId);
    await page.getByRole('button', { name: 'Show' }).click();
    await conversations.filter({ hasText: String(mine.totals.conversations) }).waitFor();

    // The CSV, as the server writes it.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const path = await download.path();
    const { readFile } = await import('node:fs/promises');
    const csv = await readFile(path, 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    assert.match(lines[0], /^scope,key,name,conversations,/);
    assert.equal(lines[1].split(',')[3], String(mine.totals.conversations));
    assert.equal(lines.length, 1 + 1 + mine.agents.length + 7);

    // An agent sees their own figures, with no one else to pick.
    const own = await signIn(ctx, server.url, 'alex@demo.com');
    await own.getByRole('button', { name: 'Reports' }).click();
    await own.locator('.card[data-figure="Conversations"] .card-v').filter({ hasText: String(mine.totals.conversations) }).waitFor();
    assert.equal(await own.getByLabel('Agent', { exact: true }).count(), 0);
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
  }
});

test('a conversation from after hours is flagged, closing emails its transcript, and an agent turns off emails when away', async () => {
  const mail = await smtpSink();
  const server = await startServer({ env: mail.env });
  const ctx = await browser.newContext();
  try {
    const token = await login(server.url);
    await setBot(server.url, token, 'off');
    // Nobody is signed in: the conversation comes in after hours.
    const started = await fetch(`${server.url}/api/v1/public/chat/sessions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant_id: 'demo-tenant', customer: { name: 'Nora Night', email: 'nora@example.com' } }),
    }).then((r) => r.json());
    assert.equal(started.session.id.length > 0, true);
    const page = await signIn(ctx, server.url, 'agent@demo.com');
    const item = conversation(page, 'Nora Night');
    await item.locator('.offline-flag', { hasText: 'after hours' }).waitFor();
    await item.click();
    const thread = page.getByRole('region', { name: 'Thread' });
    const box = thread.getByLabel('Email transcript');
    assert.equal(await box.isChecked(), true);
    await thread.getByRole('button', { name: 'Close' }).click();
    await thread.locator('.status.closed').waitFor();
    const [sent] = await mail.waitFor(1);
    assert.match(sent, /To: "Nora Night" <nora@example.com>/);
    assert.match(sent, /transcript of your conversation/);

    await page.getByRole('button', { name: 'Team' }).click();
    await page.getByRole('region', { name: 'Email' }).filter({ hasText: 'Outgoing email is on, from Demo support <help@demo.test>' }).waitFor();
    const notes = page.getByRole('form', { name: 'Notifications' });
    const away = notes.getByLabel('Email me a conversation given to me while I am away');
    await away.waitFor();
    assert.equal(await away.isChecked(), true);
    await away.uncheck();
    await notes.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const now = await fetch(`${server.url}/api/v1/agents/me/notifications`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json());
    assert.deepEqual(now, { notifications: { email_when_offline: false } });

    // A conversation given to Alex while he is away: his email's link
    // opens it in the dashboard, once he has signed in.
    const otto = await fetch(`${server.url}/api/v1/public/chat/sessions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant_id: 'demo-tenant', customer: { name: 'Otto Owl' } }),
    }).then((r) => r.json());
    const alexId = (await fetch(`${server.url}/api/v1/agents`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json()))
      .agents.find((a) => a.email === 'alex@demo.com').id;
    const given = await fetch(`${server.url}/api/v1/chat/sessions/${otto.session.id}/assign`, {
      method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ agent_id: alexId }),
    });
    assert.equal(given.status, 200);
    const mails = await mail.waitFor(2);
    assert.match(mails[1], /To: "Alex Kim" <alex@demo.com>|To: .*alex@demo.com/);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/\?session=[\w-]+)/.exec(mails[1])[1];
    const alexCtx = await browser.newContext();
    try {
      const alex = await alexCtx.newPage();
      await alex.goto(link);
      await alex.getByLabel('Email').fill('alex@demo.com');
      await alex.getByLabel('Password').fill('Test@1234');
      await alex.getByRole('button', { name: 'Sign in' }).click();
      await alex.getByRole('region', { name: 'Thread' }).getByRole('heading', { name: 'Otto Owl' }).waitFor();
      assert.equal(new URL(alex.url()).search, '');
    } finally {
      await alexCtx.close();
    }
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
    mail.close();
  }
});

test('after a hand-off the agent sees suggested articles and inserts one; an uncovered reply becomes a draft the admin publishes', async () => {
  const server = await startServer();
  const ctx = await browser.newContext();
  try {
    await setBot(server.url, await login(server.url), 'knowledge_base');
    const post = (path, body) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const started = await (await post('/api/v1/public/chat/sessions', { tenant_id: 'demo-tenant', customer: { name: 'Ola Berg' } })).json();
    const key = started.session_key;
    const page = await signIn(ctx, server.url, 'agent@demo.com');
    const question = 'can I talk to a person about getting my money back';
    await post(`/api/v1/public/chat/sessions/${key}/messages`, { body: question });

    await conversation(page, 'Ola Berg').click();
    await page.locator('.msg.bot').waitFor();
    const suggested = page.getByRole('list', { name: 'Suggested articles' });
    const first = suggested.locator('li').first();
    await first.locator('strong', { hasText: 'Returns and refunds' }).waitFor();
    assert.ok((await suggested.locator('li').count()) <= 3);
    const passage = await first.locator('p').textContent();
    assert.match(passage, /refund/i);

    // Insert puts the passage into the reply, which the agent sends.
    await first.getByRole('button', { name: /^Insert passage/ }).click();
    assert.equal(await page.locator('#composer').inputValue(), passage);
    await page.locator('#composer').press('Enter');
    await page.locator('.msg.agent:not(.pending)', { hasText: passage.slice(0, 40) }).waitFor();
    const seen = await (await fetch(`${server.url}/api/v1/public/chat/sessions/${key}/messages`)).json();
    assert.ok(seen.messages.some((m) => m.sender_type === 'agent' && m.body === passage));
    // That reply is the article's own words: nothing to turn into one.
    assert.equal(await page.getByRole('button', { name: 'Turn into article' }).count(), 0);

    // A reply no article covers can be turned into a draft article…
    const answer = 'We gift-wrap any order for 3.50: tick the gift box option at checkout.';
    await page.locator('#composer').fill(answer);
    await page.locator('#composer').press('Enter');
    await page.getByRole('button', { name: 'Turn into article' }).click();
    await page.getByText('Saved as a draft article for an admin to review.').waitFor();

    // …which the admin edits and publishes on the Team page.
    await page.getByRole('button', { name: 'Team' }).click();
    const kb = page.getByRole('region', { name: 'Knowledge base' });
    const draft = kb.locator('li', { hasText: question });
    await draft.locator('.chip.draft').waitFor();
    await draft.getByRole('button', { name: /^Edit/ }).click();
    const form = kb.getByRole('form', { name: 'Article' });
    assert.equal(await form.getByLabel('Body').inputValue(), answer);
    await form.getByLabel('Title').fill('Gift wrapping');
    await form.getByLabel('Keywords').fill('gift wrap, gift wrapping');
    await form.getByRole('button', { name: 'Publish' }).click();
    await kb.getByText('Published.').waitFor();
    await kb.locator('li', { hasText: 'Gift wrapping' }).waitFor();
    assert.equal(await kb.locator('li', { hasText: 'Gift wrapping' }).locator('.chip.draft').count(), 0);
    const token = await login(server.url);
    const list = await (await fetch(`${server.url}/api/v1/kb/articles`, { headers: { authorization: `Bearer ${token}` } })).json();
    const saved = list.articles.find((a) => a.title === 'Gift wrapping');
    assert.deepEqual([saved.draft, saved.body, saved.keywords], [false, answer, ['gift wrap', 'gift wrapping']]);

    // Deleting it (after a confirmation) takes it out of the list and away
    // from the bot.
    page.once('dialog', (d) => void d.accept());
    await kb.locator('li', { hasText: 'Gift wrapping' }).getByRole('button', { name: /^Edit/ }).click();
    await kb.getByRole('form', { name: 'Article' }).getByRole('button', { name: 'Delete' }).click();
    await kb.getByText('Deleted.').waitFor();
    await kb.locator('li', { hasText: 'Gift wrapping' }).waitFor({ state: 'detached' });
    const after = await (await fetch(`${server.url}/api/v1/kb/articles`, { headers: { authorization: `Bearer ${token}` } })).json();
    assert.ok(!after.articles.some((x) => x.title === 'Gift wrapping'));
  } finally {
    await ctx.close();
    await server.stop();
    server.cleanup();
  }
});
