/*!
 * The embeddable customer chat widget. One file, no runtime dependencies.
 *
 *   <script src="https://chat.example.com/chat-widget.js"></script>
 *   <script>CallCenterChat.init({ apiUrl: 'https://chat.example.com', tenantId: 'demo-tenant' });</script>
 *
 * Everything renders inside a Shadow DOM so the host page's CSS cannot reach
 * it, and every message goes in with textContent, never as HTML.
 */
(function (global) {
  'use strict';

  // The frames' shapes are generated from the server's wire types into
  // wire.d.ts (never edited by hand).
  /** @typedef {import('./wire').CustomerFrame} CustomerFrame */
  /** @typedef {import('./wire').ClientFrame} ClientFrame */

  var STRINGS = {
    en: {
      title: 'Chat with us',
      greeting: '',
      placeholder: 'Type a message…',
      send: 'Send',
      open: 'Open chat',
      close: 'Close chat',
      live: 'Online',
      connecting: 'Connecting…',
      reconnecting: 'Reconnecting…',
      offline: 'Offline: we will deliver your messages when back',
      joined: '{name} joined the conversation',
      typing: '{name} is typing…',
      failed: 'Not sent.',
      retry: 'Retry',
      sending: 'Sending…',
      closedNote: 'This conversation has ended.',
      unread: '{n} unread',
      you: 'You',
      history: 'Earlier conversations',
      none: 'No earlier conversations.',
      back: 'Back',
      again: 'Start a new conversation',
      download: 'Download transcript',
      sent: 'Sent', delivered: 'Delivered', read: 'Read',
      away: 'We are away right now; leave a message and we will reply.', backAt: 'Back {time}.', leaveEmail: 'Your email, so we can reply', end: 'End chat',
      rate: 'How did we do?', comment: 'Anything to add? (optional)', rateSend: 'Send rating', thanks: 'Thank you for your rating.', stars: '{n} of 5',
      attach: 'Attach a file', cancel: 'Cancel', uploading: 'Uploading {name}…', refused: 'This file could not be sent: {why}',
      name: 'Your name', email: 'Your email', start: 'Start chat', transcript: 'Email me the transcript when the chat ends',
    },
  };

  var CSS =
    ':host{all:initial!important;display:block!important;position:static!important}' +
    '.r{position:fixed;bottom:20px;z-index:2147483000;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#111827;text-align:left;letter-spacing:normal}' +
    '.r.right{right:20px}.r.left{left:20px}' +
    '*{box-sizing:border-box;margin:0;padding:0;font:inherit;color:inherit}' +
    'button{cursor:pointer;border:0;background:none}' +
    '.bubble{width:56px;height:56px;border-radius:50%;background:var(--c);color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;position:relative}' +
    '.bubble svg{width:28px;height:28px;fill:#fff}' +
    '.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px;line-height:20px;text-align:center}' +
    '.badge[hidden],.panel[hidden],.typing[hidden]{display:none}' +
    '.panel{position:absolute;bottom:70px;width:360px;height:520px;max-height:calc(100vh - 100px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}' +
    '.right .panel{right:0}.left .panel{left:0}' +
    '.head{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}' +
    '.head h2{font-size:16px;font-weight:600;flex:1}' +
    '.hb,.dl{color:#fff;font-size:16px;text-decoration:none;width:24px;text-align:center}.dl[hidden],.hl[hidden],.again[hidden]{display:none}' +
    '.m[data-r]::after{content:"\\2713";font-size:11px;margin-left:6px;opacity:.75}.m[data-r="2"]::after,.m[data-r="3"]::after{content:"\\2713\\2713"}.m[data-r="3"]::after{color:#a5f3fc;opacity:1}' +
    '.hl{position:absolute;inset:52px 0 0;background:#fff;overflow-y:auto;padding:10px;display:flex;flex-direction:column;gap:6px}' +
    '.hl button.s{text-align:left;border:1px solid #e5e7eb;border-radius:8px;padding:8px}.hl small{display:block;color:#6b7280}' +
    '.again{margin:6px auto;padding:6px 10px;border-radius:8px;background:var(--c);color:#fff}' +
    '.state{font-size:12px;opacity:.9}' +
    '.x{color:#fff;font-size:22px;line-height:1;width:28px;height:28px}' +
    '.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f9fafb}' +
    '.m{max-width:80%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}' +
    '.m.customer{align-self:flex-end;background:var(--c);color:#fff}' +
    '.m.agent{align-self:flex-start;background:#fff;border:1px solid #e5e7eb}' +
    '.m.bot{align-self:flex-start;background:#eef2ff;border:1px dashed #818cf8}' +
    '.m.system,.note{align-self:center;background:none;color:#6b7280;font-size:12px;text-align:center}' +
    '.m.pending{opacity:.6}.m.failed{background:#fee2e2;color:#991b1b}' +
    '.who{display:block;font-size:11px;opacity:.75;margin-bottom:2px}' +
    '.m button{color:inherit;text-decoration:underline;margin-left:6px;font-size:12px}' +
    '.typing{padding:0 12px 6px;font-size:12px;color:#6b7280;background:#f9fafb}' +
    'form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}' +
    'textarea{flex:1;resize:none;height:40px;border:1px solid #d1d5db;border-radius:8px;padding:9px 10px;background:#fff}' +
    'textarea:focus,button:focus-visible{outline:2px solid var(--c);outline-offset:1px}' +
    '.go{background:var(--c);color:#fff;border-radius:8px;padding:0 14px;font-weight:600}' +
    '.off{padding:8px 12px;background:#fef3c7;color:#92400e;font-size:13px}.off input{display:block;width:100%;margin-top:6px;padding:6px;border:1px solid #d1d5db;border-radius:6px;background:#fff;color:#111827}.off[hidden],.rt[hidden]{display:none}' +
    '.rt{padding:10px 12px;border-top:1px solid #e5e7eb;background:#fff;text-align:center}.rt .st button{font-size:22px;color:#d1d5db;padding:0 2px}.rt .st button.on{color:#f59e0b}.rt input{display:block;width:100%;margin:6px 0;padding:6px;border:1px solid #d1d5db;border-radius:6px}.rt .go{padding:6px 14px}.end{color:#fff;font-size:12px;opacity:.9}.end[hidden]{display:none}' +
    '.at{font-size:18px;width:28px;color:#6b7280}.m img{display:block;max-width:100%;max-height:200px;border-radius:6px;margin-top:4px;background:#e5e7eb}' +
    '.f{display:block;margin-top:4px;padding:6px 8px;border-radius:6px;background:rgba(0,0,0,.06);color:inherit;text-decoration:none;word-break:break-all}.f small{opacity:.75;margin-left:6px}' +
    '.up progress{display:block;width:100%;height:6px;margin:4px 0}.drop .log{outline:2px dashed var(--c);outline-offset:-6px}' +
    '.pc{flex-direction:column;gap:6px;border:0}.pc label{display:flex;flex-direction:column;gap:2px;font-size:12px;color:#374151}.pc input,.pc select{padding:7px;border:1px solid #d1d5db;border-radius:6px;background:#fff;font-size:14px}.pc .go{padding:8px}.pe{color:#b91c1c;font-size:12px}.pc[hidden],form[hidden],.tr[hidden]{display:none}' +
    '.tr{display:flex;gap:6px;align-items:center;padding:4px 12px;font-size:12px;color:#4b5563;background:#fff;border-top:1px solid #e5e7eb}' +
    '@media (max-width:480px){.panel{position:fixed;inset:0;width:auto;height:auto;max-height:none;border-radius:0}}';

  var ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';

  var w = null; // the one live widget

  function fmt(s, vars) {
    return String(s).replace(/\{(\w+)\}/g, function (_, k) { return vars[k] != null ? vars[k] : ''; });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function newId() {
    var a = new Uint8Array(12);
    (global.crypto || {}).getRandomValues ? global.crypto.getRandomValues(a) : a.forEach(function (_, i) { a[i] = Math.random() * 256; });
    return 'w-' + Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function Widget(opts) {
    var o = {};
    var defaults = { apiUrl: '', tenantId: '', primaryColor: '#4F46E5', position: 'bottom-right', locale: 'en', strings: {} };
    Object.keys(defaults).forEach(function (k) { o[k] = defaults[k]; });
    Object.keys(opts || {}).forEach(function (k) { o[k] = opts[k]; });
    if (!o.tenantId) throw new Error('CallCenterChat: tenantId is required');
    o.apiUrl = String(o.apiUrl || global.location.origin).replace(/\/+$/, '');
    var base = STRINGS[o.locale] || STRINGS.en;
    this.t = {};
    for (var k in STRINGS.en) this.t[k] = o.strings[k] != null ? o.strings[k] : base[k] != null ? base[k] : STRINGS.en[k];
    ['title', 'greeting', 'placeholder'].forEach(function (k) { if (o[k] != null) this.t[k] = o[k]; }, this);
    this.o = o;
    this.storeKey = 'callcenterchat:' + o.tenantId + ':session';
    this.visitorKey = 'callcenterchat:' + o.tenantId + ':visitor';
    this.key = null;
    try { this.key = global.localStorage.getItem(this.storeKey); this.visitor = global.localStorage.getItem(this.visitorKey); } catch (e) { /* storage blocked */ }
    this.peer = { d: 0, r: 0 }; // the team's delivered and read pointers
    this.acked = { d: 0, r: 0 }; // what this widget reported
    this.user = o.user || null;
    this.seen = {}; // seq -> element
    this.contig = 0; // every seq up to here is shown
    this.pending = {}; // client_msg_id -> { body, el }
    this.listeners = { message: [], open: [], close: [] };
    this.unread = 0;
    this.attempt = 0;
    this.given = opts || {};
    this.render();
    this.loadSettings();
    var link = /[?&]parley_resume=([^&#]+)/.exec(global.location.search);
    if (link) this.fromLink(decodeURIComponent(link[1]));
    else if (this.key) this.resume();
  }

  var P = Widget.prototype;

  P.render = function () {
    var self = this, t = this.t;
    this.host = document.createElement('call-center-chat');
    var root = this.host.attachShadow({ mode: 'open' });
    var style = el('style');
    style.textContent = CSS;
    root.appendChild(style);
    var r = el('div', 'r ' + (this.o.position === 'bottom-left' ? 'left' : 'right'));
    r.style.setProperty('--c', this.o.primaryColor);
    var bubble = el('button', 'bubble');
    bubble.type = 'button';
    bubble.innerHTML = ICON; // a constant, never user text
    bubble.setAttribute('aria-label', t.open);
    bubble.setAttribute('aria-expanded', 'false');
    var badge = el('span', 'badge');
    badge.hidden = true;
    bubble.appendChild(badge);
    var panel = el('div', 'panel');
    panel.hidden = true;
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-modal', 'true');
    panel.setAttribute('aria-label', t.title);
    var head = el('div', 'head');
    var h = el('h2', null, t.title);
    var state = el('span', 'state', '');
    state.setAttribute('role', 'status');
    var x = el('button', 'x', '×');
    x.type = 'button';
    x.setAttribute('aria-label', t.close);
    var hb = el('button', 'hb', '\u21BA');
    hb.type = 'button';
    hb.setAttribute('aria-label', t.history);
    hb.title = t.history;
    var dl = el('a', 'dl', '\u2913');
    dl.setAttribute('aria-label', t.download);
    dl.title = t.download;
    dl.hidden = true;
    var end = el('button', 'end', t.end);
    end.type = 'button';
    end.hidden = true;
    end.addEventListener('click', function () { self.endChat(); });
    head.appendChild(h); head.appendChild(state); head.appendChild(end); head.appendChild(hb); head.appendChild(dl); head.appendChild(x);
    var off = el('div', 'off');
    off.hidden = true;
    off.setAttribute('role', 'status');
    var rt = el('div', 'rt');
    rt.hidden = true;
    var hl = el('div', 'hl');
    hl.hidden = true;
    var again = el('button', 'again', t.again);
    again.type = 'button';
    again.hidden = true;
    var log = el('div', 'log');
    log.setAttribute('role', 'log');
    log.setAttribute('aria-live', 'polite');
    var typing = el('div', 'typing');
    typing.hidden = true;
    var form = el('form');
    var input = el('textarea');
    input.setAttribute('aria-label', t.placeholder);
    input.placeholder = t.placeholder;
    input.rows = 1;
    var go = el('button', 'go', t.send);
    go.type = 'submit';
    var at = el('button', 'at', '\uD83D\uDCCE');
    at.type = 'button';
    at.setAttribute('aria-label', t.attach);
    at.title = t.attach;
    var file = el('input');
    file.type = 'file';
    file.hidden = true;
    file.accept = 'image/*,.pdf,.txt,.csv,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp,.rtf';
    form.appendChild(at); form.appendChild(file); form.appendChild(input); form.appendChild(go);
    at.addEventListener('click', function () { file.click(); });
    file.addEventListener('change', function () { if (file.files[0]) self.attach(file.files[0]); file.value = ''; });
    input.addEventListener('paste', function (e) {
      var f = e.clipboardData && e.clipboardData.files && e.clipboardData.files[0];
      if (f) { e.preventDefault(); self.attach(f); }
    });
    panel.addEventListener('dragover', function (e) { e.preventDefault(); panel.classList.add('drop'); });
    panel.addEventListener('dragleave', function () { panel.classList.remove('drop'); });
    panel.addEventListener('drop', function (e) {
      e.preventDefault(); panel.classList.remove('drop');
      var f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (f) self.attach(f);
    });
    var pc = el('form', 'pc');
    pc.hidden = true;
    pc.setAttribute('aria-label', t.start);
    var tr = el('label', 'tr');
    var trBox = el('input');
    trBox.type = 'checkbox';
    trBox.checked = true;
    tr.appendChild(trBox); tr.appendChild(document.createTextNode(t.transcript));
    tr.hidden = true;
    panel.appendChild(head); panel.appendChild(off); panel.appendChild(log); panel.appendChild(rt); panel.appendChild(again); panel.appendChild(typing); panel.appendChild(tr); panel.appendChild(pc); panel.appendChild(form); panel.appendChild(hl);
    r.appendChild(panel); r.appendChild(bubble);
    root.appendChild(r);
    this.els = { bubble: bubble, badge: badge, panel: panel, state: state, log: log, typing: typing, input: input, title: h, hl: hl, dl: dl, again: again, off: off, rt: rt, end: end, root: r, pc: pc, form: form, tr: tr, trBox: trBox };
    hb.addEventListener('click', function () { hl.hidden ? self.history() : (hl.hidden = true); });
    again.addEventListener('click', function () { self.startOver(); });
    this.onSeen = function () { self.markRead(); };
    global.addEventListener('focus', this.onSeen);
    document.addEventListener('visibilitychange', this.onSeen);
    this.link();
    bubble.addEventListener('click', function () { self.toggle(); });
    x.addEventListener('click', function () { self.close(); });
    form.addEventListener('submit', function (e) { e.preventDefault(); self.submit(); });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); self.submit(); }
    });
    input.addEventListener('input', function () { self.typingChanged(); });
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); self.close(); bubble.focus(); }
      if (e.key === 'Tab') self.trapFocus(e);
    });
    document.body.appendChild(this.host);
  };

  P.trapFocus = function (e) {
    var items = Array.prototype.filter.call(this.els.panel.querySelectorAll('button,textarea,input,select'), function (n) { return !n.disabled && n.offsetParent !== null; });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1], active = this.host.shadowRoot.activeElement;
    if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  };

  P.emit = function (kind, arg) {
    (this.listeners[kind] || []).forEach(function (fn) { try { fn(arg); } catch (e) { /* a listener's error is its own */ } });
  };

  P.setState = function (s) {
    this.state = s;
    this.els.state.textContent = this.t[s] || '';
  };

  P.open = function () {
    var e = this.els;
    e.panel.hidden = false;
    e.bubble.setAttribute('aria-expanded', 'true');
    this.unread = 0;
    this.badge();
    e.input.focus();
    this.markRead();
    if (!this.greeted && this.t.greeting && !this.key) {
      this.greeted = true;
      this.note(this.t.greeting);
    }
    this.emit('open');
  };

  P.close = function () {
    this.els.panel.hidden = true;
    this.els.bubble.setAttribute('aria-expanded', 'false');
    this.emit('close');
  };

  P.toggle = function () { this.els.panel.hidden ? this.open() : this.close(); };

  P.badge = function () {
    var b = this.els.badge;
    b.hidden = this.unread === 0;
    b.textContent = this.unread > 9 ? '9+' : String(this.unread);
    b.setAttribute('aria-label', fmt(this.t.unread, { n: this.unread }));
  };

  P.note = function (text) {
    var n = el('div', 'note', text);
    this.els.log.appendChild(n);
    this.scroll();
  };

  P.scroll = function () { var l = this.els.log; l.scrollTop = l.scrollHeight; };

  // ----- HTTP ---------------------------------------------------------------

  P.http = function (method, path, body) {
    var init = { method: method, headers: {} };
    if (body) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(this.o.apiUrl + path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) { var err = new Error((data.error && data.error.message) || res.statusText); err.status = res.status; throw err; }
        return data;
      });
    });
  };

  P.ensureSession = function () {
    var self = this;
    if (this.key) return Promise.resolve(this.key);
    if (this.starting) return this.starting;
    var customer = {};
    if (this.user && this.user.name) customer.name = String(this.user.name);
    if (this.user && this.user.email) customer.email = String(this.user.email);
    if (this.attrs) customer.attributes = this.attrs;
    this.starting = this.http('POST', '/api/v1/public/chat/sessions', {
      tenant_id: this.o.tenantId,
      visitor_token: this.visitor || undefined,
      customer: customer,
      context: { page_url: String(global.location.href).slice(0, 2048), referrer: document.referrer ? document.referrer.slice(0, 2048) : undefined, locale: (navigator.language || '').slice(0, 35) || undefined },
    }).then(function (data) {
      self.key = data.session_key;
      self.visitor = data.visitor_token;
      self.knows(data.session);
      try { global.localStorage.setItem(self.storeKey, self.key); global.localStorage.setItem(self.visitorKey, self.visitor); } catch (e) { /* storage blocked */ }
      self.starting = null;
      self.link();
      self.connect();
      return self.key;
    }, function (err) {
      self.starting = null;
      // The server checks the pre-chat answers too: ask again, saying why.
      if (err.status === 422) { self.pcDone = false; self.showPrechat(err.message); }
      throw err;
    });
    return this.starting;
  };

  /** The customer followed the link of an email: this browser gets the
   * conversation (the link's token is taken out of the address). */
  P.fromLink = function (token) {
    var self = this;
    try {
      var u = new URL(global.location.href);
      u.searchParams.delete('parley_resume');
      global.history.replaceState(global.history.state, '', u.toString());
    } catch (e) { /* an address we cannot rewrite */ }
    this.http('POST', '/api/v1/public/chat/resume', { token: token }).then(function (d) {
      self.key = d.session_key;
      self.knows(d.session);
      try { global.localStorage.setItem(self.storeKey, self.key); } catch (e) { /* storage blocked */ }
      self.link();
      self.resume();
      self.open();
    }, function () { if (self.key) self.resume(); });
  };

  /** The pre-chat form's fields from the server's settings (none: no
   * form): name and email as asked, the email always while away when the
   * team wants it, and the custom fields; shown when one is required. */
  P.prechatFields = function () {
    var s = this.remote, p = s && s.prechat, t = this.t, f = [], u = this.user || {};
    if (!p || this.key || this.pcDone) return f;
    var away = !s.online || !s.business_hours_open, mustMail = away && p.email_when_offline;
    if (p.name !== 'off' && !u.name) f.push({ key: 'name', label: t.name, required: p.name === 'required' });
    if ((p.email !== 'off' || mustMail) && !u.email) f.push({ key: 'email', label: t.email, type: 'email', required: p.email === 'required' || mustMail });
    (p.fields || []).forEach(function (x) { f.push({ key: x.key, label: x.label, required: x.required, choices: x.choices, custom: true }); });
    // Optional questions alone never stand between a visitor and the chat.
    return f.some(function (x) { return x.required; }) ? f : [];
  };

  P.showPrechat = function (error) {
    var fields = this.prechatFields(), pc = this.els.pc, self = this;
    pc.textContent = '';
    pc.hidden = !fields.length;
    this.els.form.hidden = !!fields.length;
    if (!fields.length) return;
    var inputs = [];
    fields.forEach(function (f) {
      var label = el('label', null, f.label + (f.required ? ' *' : '')), input;
      if (f.choices && f.choices.length) {
        input = el('select');
        [''].concat(f.choices).forEach(function (c) { var o = el('option', null, c); o.value = c; input.appendChild(o); });
      } else {
        input = el('input');
        input.type = f.type || 'text';
      }
      input.required = !!f.required;
      label.appendChild(input);
      pc.appendChild(label);
      inputs.push({ f: f, input: input });
    });
    var err = el('p', 'pe', error || '');
    err.setAttribute('role', 'alert');
    var go = el('button', 'go', this.t.start);
    go.type = 'submit';
    pc.appendChild(err); pc.appendChild(go);
    pc.onsubmit = function (e) {
      e.preventDefault();
      if (!pc.reportValidity()) return;
      var u = self.user = self.user || {}, a = self.attrs = self.attrs || {};
      inputs.forEach(function (i) {
        var v = i.input.value.trim();
        if (v) (i.f.custom ? a : u)[i.f.key] = v;
      });
      self.pcDone = true;
      pc.hidden = true;
      self.els.form.hidden = false;
      self.link();
      self.els.input.focus();
    };
  };

  /** The customer's address as the server has it (for the transcript). */
  P.knows = function (session) {
    var mail = session && session.customer && session.customer.email;
    if (mail && !(this.user && this.user.email)) { this.user = this.user || {}; this.user.email = mail; }
    this.link();
  };

  /** Reload: fetch the whole conversation over HTTP, then go live. */
  P.resume = function () {
    var self = this;
    if (!(this.user && this.user.email)) this.http('GET', this.path('')).then(function (d) { self.knows(d.session); }, function () { /* the messages call says */ });
    this.fetchAfter().then(function () { self.connect(); }, function (err) {
      if (err.status === 404) { self.forget(); return; }
      self.connect();
    });
  };

  P.forget = function () {
    this.key = null;
    this.link();
    try { global.localStorage.removeItem(this.storeKey); } catch (e) { /* storage blocked */ }
  };

  P.path = function (rest) { return '/api/v1/public/chat/sessions/' + encodeURIComponent(this.key) + rest; };

  /** The server's settings; the snippet's own options win. */
  P.loadSettings = function () {
    var self = this, g = this.given;
    this.http('GET', '/api/v1/public/tenants/' + encodeURIComponent(this.o.tenantId) + '/widget').then(function (s) {
      self.remote = s;
      var e = self.els;
      if (!g.primaryColor && s.primary_color) e.root.style.setProperty('--c', s.primary_color);
      if (!g.position && s.position) e.root.className = 'r ' + (s.position === 'bottom-left' ? 'left' : 'right');
      if (!g.title && !(g.strings || {}).title && s.name) { self.t.title = s.name; e.title.textContent = s.name; e.panel.setAttribute('aria-label', s.name); }
      if (!g.greeting && !(g.strings || {}).greeting && s.greeting) self.t.greeting = s.greeting;
      if (!e.panel.hidden && !self.greeted && !self.key && self.t.greeting) { self.greeted = true; self.note(self.t.greeting); }
      self.showAway();
      self.showPrechat();
    }, function () { /* the widget works with its own defaults */ });
  };

  /** Offline or outside business hours: say so (the pre-chat form asks
   * for the email). */
  P.showAway = function () {
    var s = this.remote, off = this.els.off, t = this.t;
    if (!s) return;
    var away = !s.online || !s.business_hours_open;
    off.hidden = !away;
    if (!away) return;
    off.textContent = s.offline_message || t.away;
    if (s.next_open) off.appendChild(document.createTextNode(' ' + fmt(t.backAt, { time: new Date(s.next_open).toLocaleString(s.locale || undefined) })));
  };

  /** The customer ends the conversation. */
  P.endChat = function () {
    var self = this;
    if (!this.key) return;
    var mail = !this.els.tr.hidden && this.els.trBox.checked;
    this.http('POST', this.path('/close'), { send_transcript: mail }).then(function () { self.closed(); }, function () { /* already closed */ self.closed(); });
  };

  P.closed = function () {
    this.els.end.hidden = true;
    this.els.tr.hidden = true;
    this.els.again.hidden = false;
    this.askRating();
  };

  /** After a close: 1 to 5 stars and a comment, once. */
  P.askRating = function () {
    var self = this, t = this.t, rt = this.els.rt;
    if (this.rated || (this.remote && this.remote.csat === false) || !rt.hidden) return;
    rt.hidden = false;
    rt.textContent = '';
    rt.appendChild(el('p', null, t.rate));
    var stars = el('div', 'st'), score = 0, buttons = [];
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var b = el('button', null, '\u2605');
        b.type = 'button';
        b.setAttribute('aria-label', fmt(t.stars, { n: n }));
        b.addEventListener('click', function () { score = n; buttons.forEach(function (x, j) { x.className = j < n ? 'on' : ''; }); });
        buttons.push(b);
        stars.appendChild(b);
      })(i);
    }
    var note = el('input');
    note.placeholder = t.comment;
    note.setAttribute('aria-label', t.comment);
    var send = el('button', 'go', t.rateSend);
    send.type = 'button';
    send.addEventListener('click', function () {
      if (!score) return;
      self.http('POST', self.path('/rating'), { score: score, comment: note.value.trim() || undefined }).then(function () {
        self.rated = true;
        rt.textContent = t.thanks;
      }, function (e) { if (e.status === 409) { self.rated = true; rt.textContent = t.thanks; } });
    });
    rt.appendChild(stars); rt.appendChild(note); rt.appendChild(send);
  };

  /** The transcript link, once there is a conversation. */
  P.link = function () {
    var dl = this.els.dl;
    dl.hidden = !this.key;
    this.els.end.hidden = !this.key;
    // The transcript by email, for a customer who gave an address.
    this.els.tr.hidden = !this.key || !(this.user && this.user.email);
    if (this.key) dl.href = this.o.apiUrl + this.path('/transcript?format=txt');
  };

  /** A closed conversation makes way for a new one (the same visitor). */
  P.startOver = function () {
    if (this.ws) { var ws = this.ws; this.ws = null; ws.close(1000); }
    this.forget();
    this.els.log.textContent = '';
    this.seen = {}; this.contig = 0; this.peer = { d: 0, r: 0 }; this.acked = { d: 0, r: 0 };
    this.els.again.hidden = true;
    this.els.hl.hidden = true;
    this.els.rt.hidden = true;
    this.els.rt.textContent = '';
    this.rated = false;
    this.els.input.focus();
  };

  /** The visitor's earlier conversations, newest first, read-only. */
  P.history = function () {
    var self = this, hl = this.els.hl, t = this.t;
    hl.hidden = false;
    hl.textContent = '';
    var back = el('button', 'again', t.back);
    back.type = 'button';
    back.addEventListener('click', function () { hl.hidden = true; });
    hl.appendChild(back);
    var creds = { tenant_id: this.o.tenantId, visitor_token: this.visitor || '-' };
    this.http('POST', '/api/v1/public/visitor/sessions', creds).catch(function () { return { sessions: [] }; }).then(function (data) {
      var list = (data.sessions || []).filter(function (s) { return !self.key || s.id !== self.sessionId; });
      if (!list.length) hl.appendChild(el('p', 'note', t.none));
      list.forEach(function (s) {
        var b = el('button', 's', s.last_message_preview || '…');
        b.type = 'button';
        b.setAttribute('data-session', s.id);
        b.appendChild(el('small', null, new Date(s.created_at).toLocaleString()));
        b.addEventListener('click', function () {
          self.http('POST', '/api/v1/public/visitor/sessions/' + encodeURIComponent(s.id) + '/messages', creds).then(function (d) {
            hl.textContent = '';
            hl.appendChild(back);
            (d.messages || []).forEach(function (m) {
              var n = el('div', 'm ' + m.sender_type);
              if (m.sender_type !== 'customer') n.appendChild(el('span', 'who', m.sender_name));
              n.appendChild(document.createTextNode(m.body));
              self.files(n, m.attachments);
              hl.appendChild(n);
            });
          });
        });
        hl.appendChild(b);
      });
    });
  };

  /** The team's pointers, after a (re)connect. */
  P.pointers = function () {
    var self = this;
    if (!this.key) return;
    this.http('GET', this.path('')).then(function (d) {
      self.sessionId = d.session.id;
      self.receipt(d.session.agent_delivered_seq, d.session.agent_read_seq);
      if (d.session.status === 'closed') { self.rated = self.rated || d.session.rated; self.closed(); }
    }, function () { /* next time */ });
  };

  P.receipt = function (d, r) {
    this.peer.d = Math.max(this.peer.d, d || 0);
    this.peer.r = Math.max(this.peer.r, r || 0);
    for (var s in this.seen) {
      var n = this.seen[s];
      if (n.getAttribute('data-r')) n.setAttribute('data-r', +s <= this.peer.r ? 3 : +s <= this.peer.d ? 2 : 1);
    }
  };

  /** Reports receipt of everything shown, a few times a second at most. */
  P.ackLater = function () {
    var self = this;
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(function () {
      self.ackTimer = null;
      if (self.contig > self.acked.d && self.sendFrame('chat.message.delivered', { seq: self.contig })) self.acked.d = self.contig;
    }, 250);
  };

  /** Reports reading when a person can see the thread. */
  P.markRead = function () {
    var seen = !this.els.panel.hidden && document.visibilityState !== 'hidden' && document.hasFocus();
    if (seen && this.contig > this.acked.r && this.sendFrame('chat.message.read', { seq: this.contig })) {
      this.acked.r = this.acked.d = Math.max(this.acked.d, this.contig);
    }
  };

  P.fetchAfter = function () {
    var self = this;
    if (!this.key) return Promise.resolve();
    return this.http('GET', '/api/v1/public/chat/sessions/' + encodeURIComponent(this.key) + '/messages?after_seq=' + this.contig)
      .then(function (data) {
        (data.messages || []).forEach(function (m) { self.addMessage(m); });
        if ((data.messages || []).length === 200) return self.fetchAfter();
      });
  };

  // ----- WebSocket ----------------------------------------------------------

  P.connect = function () {
    var self = this;
    if (!this.key || this.destroyed) return;
    if (this.ws && this.ws.readyState <= 1) return;
    this.setState(this.attempt ? 'reconnecting' : 'connecting');
    var url = this.o.apiUrl.replace(/^http/, 'ws') + '/ws/public/' + encodeURIComponent(this.key);
    var ws;
    try { ws = new WebSocket(url); } catch (e) { this.retryLater(); return; }
    this.ws = ws;
    ws.onopen = function () {
      self.attempt = 0;
      self.stopPolling();
      self.setState('live');
      self.acked = { d: 0, r: 0 };
      self.pointers();
      self.sendFrame('chat.resume', { after_seq: self.contig });
      Object.keys(self.pending).forEach(function (id) { var p = self.pending[id]; if (!p.failed) self.sendFrame('chat.message.send', { body: p.body, client_msg_id: id, attachment_ids: p.files || [] }); });
    };
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      self.onFrame(f.type, f.payload || {});
    };
    ws.onclose = function (ev) {
      if (self.ws !== ws) return;
      self.ws = null;
      if (self.destroyed) return;
      self.retryLater();
    };
  };

  /** Exponential backoff with jitter; HTTP polling covers the gap. */
  P.retryLater = function () {
    var self = this;
    this.attempt += 1;
    this.setState(this.attempt > 2 ? 'offline' : 'reconnecting');
    if (this.attempt >= 2) this.startPolling();
    var delay = Math.min(30000, 500 * Math.pow(2, this.attempt - 1));
    delay = delay / 2 + Math.random() * delay / 2;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(function () { self.connect(); }, delay);
  };

  P.startPolling = function () {
    var self = this;
    if (this.pollTimer) return;
    this.pollTimer = setInterval(function () { self.fetchAfter().catch(function () { /* still offline */ }); }, 3000);
  };

  P.stopPolling = function () { clearInterval(this.pollTimer); this.pollTimer = null; };

  P.live = function () { return this.ws && this.ws.readyState === 1; };

  /**
   * @param {ClientFrame['type']} type
   * @param {object} payload
   */
  P.sendFrame = function (type, payload) {
    if (!this.live()) return false;
    this.ws.send(JSON.stringify({ type: type, payload: payload }));
    return true;
  };

  /**
   * @param {CustomerFrame['type']} type
   * @param {any} p the frame's payload
   */
  P.onFrame = function (type, p) {
    if (type === 'chat.message.new') this.addMessage(p);
    else if (type === 'chat.message.ack') this.addMessage(p.message);
    else if (type === 'chat.resume.done' && p.more) this.sendFrame('chat.resume', { after_seq: p.last_seq });
    else if (type === 'chat.resync') this.sendFrame('chat.resume', { after_seq: this.contig });
    else if (type === 'chat.agent.joined') { this.agentName = p.agent_name; this.note(fmt(this.t.joined, { name: p.agent_name })); }
    else if (type === 'chat.session.closed') { this.note(this.t.closedNote); this.closed(); }
    else if (type === 'chat.receipt' && p.side === 'agent') this.receipt(p.delivered_seq, p.read_seq);
    else if (type === 'chat.resume.done') { this.ackLater(); this.markRead(); }
    else if (type === 'chat.typing' && p.sender_type !== 'customer') this.showTyping(p.name, p.is_typing);
    else if (type === 'error' && p.client_msg_id && this.pending[p.client_msg_id]) this.markFailed(p.client_msg_id);
  };

  P.showTyping = function (name, on) {
    var self = this, t = this.els.typing;
    clearTimeout(this.typingTimer);
    t.textContent = fmt(this.t.typing, { name: name });
    t.hidden = !on;
    if (on) this.typingTimer = setTimeout(function () { t.hidden = true; }, 6000);
  };

  /** Inserts a stored message once, in seq order. */
  P.addMessage = function (m) {
    if (!m || typeof m.seq !== 'number' || this.seen[m.seq]) return;
    var pend = m.client_msg_id && this.pending[m.client_msg_id];
    if (pend) { pend.el.remove(); delete this.pending[m.client_msg_id]; }
    var node = el('div', 'm ' + (m.sender_type || 'agent'));
    node.setAttribute('data-seq', m.seq);
    if (m.sender_type !== 'customer') node.appendChild(el('span', 'who', m.sender_name));
    else node.setAttribute('data-r', m.seq <= this.peer.r ? 3 : m.seq <= this.peer.d ? 2 : 1);
    node.appendChild(document.createTextNode(m.body));
    this.files(node, m.attachments);
    // Before the next higher seq already shown, else before the pending
    // messages at the bottom.
    var log = this.els.log, before = null, bestSeq = Infinity;
    for (var s in this.seen) { s = +s; if (s > m.seq && s < bestSeq) { bestSeq = s; before = this.seen[s]; } }
    if (!before) before = log.querySelector('.pending,.failed');
    log.insertBefore(node, before);
    this.seen[m.seq] = node;
    while (this.seen[this.contig + 1]) this.contig += 1;
    if (m.sender_type !== 'customer') {
      if (this.els.panel.hidden) { this.unread += 1; this.badge(); }
      if (m.sender_type === 'agent') this.els.typing.hidden = true;
      this.ackLater();
      this.markRead();
    }
    this.scroll();
    this.emit('message', m);
  };

  P.submit = function () {
    var body = this.els.input.value.trim();
    if (!body) return;
    this.els.input.value = '';
    this.sendTyping(false);
    var id = newId();
    var node = el('div', 'm customer pending');
    node.appendChild(document.createTextNode(body));
    this.els.log.appendChild(node);
    this.pending[id] = { body: body, el: node };
    this.scroll();
    this.deliver(id);
  };

  P.deliver = function (id) {
    var self = this, p = this.pending[id];
    if (!p) return;
    p.failed = false;
    p.el.className = 'm customer pending';
    var msg = { body: p.body, client_msg_id: id, attachment_ids: p.files || [] };
    this.ensureSession().then(function () {
      if (self.sendFrame('chat.message.send', msg)) return;
      return self.http('POST', '/api/v1/public/chat/sessions/' + encodeURIComponent(self.key) + '/messages', msg)
        .then(function (data) { self.addMessage(data.message); });
    }).catch(function () { self.markFailed(id); });
  };

  /** A size as people read it. */
  function size(n) {
    return n < 1024 ? n + ' B' : n < 1048576 ? Math.round(n / 1024) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
  }

  /** A message's files: images as thumbnails that open full size, the
   * rest as cards with name and size (all text, never markup). */
  P.files = function (node, list) {
    var api = this.o.apiUrl;
    (list || []).forEach(function (a) {
      var href = a.url.charAt(0) === '/' ? api + a.url : a.url;
      var link = el('a', a.inline ? 'i' : 'f');
      link.href = href;
      link.target = '_blank';
      link.rel = 'noopener';
      if (a.inline) {
        var img = el('img');
        img.src = href;
        img.alt = a.name;
        if (a.width) { img.width = Math.min(a.width, 240); img.style.height = 'auto'; }
        link.appendChild(img);
      } else {
        link.setAttribute('download', a.name);
        link.appendChild(document.createTextNode(a.name));
        link.appendChild(el('small', null, size(a.size)));
      }
      node.appendChild(link);
    });
  };

  /** Uploads a file with a progress bar and a cancel button, then sends
   * it as its own message. */
  P.attach = function (f) {
    var self = this, t = this.t;
    var card = el('div', 'm customer pending up');
    card.appendChild(document.createTextNode(fmt(t.uploading, { name: f.name })));
    var bar = el('progress');
    bar.max = 1; bar.value = 0;
    var stop = el('button', null, t.cancel);
    stop.type = 'button';
    card.appendChild(bar); card.appendChild(stop);
    this.els.log.appendChild(card);
    this.scroll();
    var xhr = new XMLHttpRequest();
    stop.addEventListener('click', function () { xhr.abort(); card.remove(); });
    var fail = function (why) {
      card.className = 'm customer failed';
      card.textContent = fmt(t.refused, { why: why });
    };
    this.ensureSession().then(function () {
      var form = new FormData();
      form.append('file', f, f.name);
      xhr.open('POST', self.o.apiUrl + self.path('/attachments'));
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = e.loaded / e.total; };
      xhr.onload = function () {
        var data = {};
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status !== 201) return fail((data.error && data.error.message) || xhr.statusText);
        card.remove();
        var id = newId();
        var node = el('div', 'm customer pending');
        node.appendChild(document.createTextNode(f.name));
        self.els.log.appendChild(node);
        self.pending[id] = { body: '', files: [data.attachment.id], el: node };
        self.deliver(id);
      };
      xhr.onerror = function () { fail(t.failed); };
      xhr.send(form);
    }, function () { fail(t.failed); });
  };

  P.markFailed = function (id) {
    var self = this, p = this.pending[id];
    if (!p) return;
    p.failed = true;
    p.el.className = 'm customer failed';
    p.el.textContent = '';
    p.el.appendChild(document.createTextNode(p.body + ' '));
    p.el.appendChild(el('span', 'who', this.t.failed));
    var b = el('button', null, this.t.retry);
    b.type = 'button';
    b.addEventListener('click', function () { p.el.textContent = p.body; self.deliver(id); });
    p.el.appendChild(b);
  };

  P.typingChanged = function () {
    var self = this;
    var now = Date.now();
    if (!this.typingSentAt || now - this.typingSentAt > 2000) { this.sendTyping(true); }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(function () { self.sendTyping(false); }, 3000);
  };

  P.sendTyping = function (on) {
    if (!on && !this.typingSentAt) return;
    this.typingSentAt = on ? Date.now() : 0;
    this.sendFrame('chat.typing', { is_typing: on });
  };

  P.destroy = function () {
    this.destroyed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.typingIdle);
    this.stopPolling();
    clearTimeout(this.ackTimer);
    global.removeEventListener('focus', this.onSeen);
    document.removeEventListener('visibilitychange', this.onSeen);
    if (this.ws) { var ws = this.ws; this.ws = null; ws.close(1000); }
    this.host.remove();
  };

  var api = {
    init: function (opts) { if (w) w.destroy(); w = new Widget(opts); return api; },
    open: function () { if (w) w.open(); },
    close: function () { if (w) w.close(); },
    toggle: function () { if (w) w.toggle(); },
    setUser: function (u) { if (w) w.user = u || null; },
    on: function (kind, fn) { if (w && w.listeners[kind] && typeof fn === 'function') w.listeners[kind].push(fn); return api; },
    destroy: function () { if (w) { w.destroy(); w = null; } },
  };
  global.CallCenterChat = api;
})(window);
