/*! Kefu web chat widget: <script src="https://kefu.example.com/widget.js" data-website-token="..."></script>
 * Optional data-locale, data-user-id, data-user-hash, data-name, data-color, or window.KefuSettings. */
(function () {
  "use strict";
  if (window.Kefu && window.Kefu.loaded) return;

  var script = document.currentScript || (function () {
    var all = document.querySelectorAll("script[data-website-token]");
    return all[all.length - 1];
  })();
  if (!script) return;
  var ds = script.dataset || {};
  var cfg = window.KefuSettings || {};
  var token = ds.websiteToken || cfg.website_token;
  if (!token || /^\{\{/.test(token)) { console.warn("Kefu: data-website-token is missing"); return; }
  var origin = new URL(script.src || "/", location.href).origin;
  var wsUrl = origin.replace(/^http/, "ws") + "/ws/web_chat";
  var userId = cfg.user_id || ds.userId;
  var userHash = cfg.user_hash || ds.userHash;
  var visitorName = cfg.name || ds.name;
  var color = cfg.color || ds.color || "#4f46e5";
  var lang = String(cfg.locale || ds.locale || navigator.language || "en").toLowerCase();
  var zh = lang.indexOf("zh") === 0;

  // Non-ASCII text is \u-escaped: host pages in GBK or Big5 would otherwise garble it.
  var T = zh ? {
    title: "\u5728\u7ebf\u5ba2\u670d", greeting: "\u4f60\u597d\uff01\u6709\u4ec0\u4e48\u53ef\u4ee5\u5e2e\u60a8\uff1f", placeholder: "\u8f93\u5165\u6d88\u606f\u2026",
    send: "\u53d1\u9001", open: "\u6253\u5f00\u804a\u5929", close: "\u5173\u95ed\u804a\u5929", sending: "\u53d1\u9001\u4e2d", sent: "\u5df2\u53d1\u9001",
    read: "\u5df2\u8bfb", failed: "\u672a\u53d1\u9001", connecting: "\u6b63\u5728\u8fde\u63a5\u2026", reconnecting: "\u8fde\u63a5\u4e2d\u65ad\uff0c\u6b63\u5728\u91cd\u8fde\u2026",
    online: "\u6211\u4eec\u901a\u5e38\u51e0\u5206\u949f\u5185\u56de\u590d", typing: "{name}\u6b63\u5728\u8f93\u5165\u2026", agent: "\u5ba2\u670d", bot: "\u667a\u80fd\u52a9\u624b",
    queue: "\u60a8\u524d\u9762\u8fd8\u6709 {n} \u4f4d", queued: "\u6b63\u5728\u4e3a\u60a8\u63a5\u5165\u5ba2\u670d\u2026", assigned: "{name}\u4e3a\u60a8\u670d\u52a1",
    resolved: "\u4f1a\u8bdd\u5df2\u7ed3\u675f\uff0c\u53d1\u9001\u6d88\u606f\u53ef\u91cd\u65b0\u5f00\u59cb", error: "\u62b1\u6b49\uff0c\u51fa\u73b0\u4e86\u95ee\u9898\uff1a{detail}",
    you: "\u6211", attach: "\u6dfb\u52a0\u6587\u4ef6", file_too_large: "\u6587\u4ef6\u592a\u5927\uff0c\u65e0\u6cd5\u53d1\u9001\u3002", file_empty: "\u6587\u4ef6\u662f\u7a7a\u7684\u3002", too_many_uploads: "\u60a8\u53d1\u9001\u7684\u6587\u4ef6\u592a\u591a\u4e86\uff0c\u8bf7\u7a0d\u540e\u518d\u8bd5\u3002",
    upload_failed: "\u6587\u4ef6\u672a\u80fd\u53d1\u9001\uff0c\u8bf7\u91cd\u8bd5\u3002", powered: "\u7531 Kefu \u63d0\u4f9b\u652f\u6301", away: "\u6211\u4eec\u73b0\u5728\u4e0d\u5728\u7ebf\uff0c{time} \u6062\u590d\u670d\u52a1", away_later: "\u6211\u4eec\u73b0\u5728\u4e0d\u5728\u7ebf\uff0c\u8bf7\u7559\u8a00\uff0c\u6211\u4eec\u4f1a\u5c3d\u5feb\u56de\u590d",
    too_many_connections: "\u6b64\u7f51\u7edc\u6253\u5f00\u7684\u804a\u5929\u7a97\u53e3\u8fc7\u591a\uff0c\u8bf7\u5173\u95ed\u4e00\u4e9b\u540e\u518d\u8bd5\u3002", too_many_conversations: "\u6b64\u7f51\u7edc\u53d1\u8d77\u7684\u65b0\u4f1a\u8bdd\u8fc7\u591a\uff0c\u8bf7\u7a0d\u540e\u518d\u8bd5\u3002"
  } : {
    title: "Chat with us", greeting: "Hi there! How can we help you today?", placeholder: "Type your message\u2026", send: "Send", open: "Open chat",
    close: "Close chat", sending: "Sending", sent: "Sent", read: "Seen", failed: "Not sent", connecting: "Connecting\u2026",
    reconnecting: "Connection lost. Reconnecting\u2026", online: "We usually reply in a few minutes", typing: "{name} is typing\u2026", agent: "Support", bot: "Assistant",
    queue: "You are number {n} in the queue", queued: "Finding an agent for you\u2026", assigned: "{name} is helping you",
    resolved: "This conversation is closed. Send a message to start again.", error: "Sorry, something went wrong: {detail}", you: "You",
    powered: "Powered by Kefu", attach: "Attach a file", file_too_large: "This file is too large to send.", file_empty: "This file is empty.",
    too_many_uploads: "You have sent too many files. Please try again later.", upload_failed: "The file could not be sent. Please try again.",
    too_many_connections: "Too many chat windows are open from your network. Close some and try again.", away: "We are away. Back {time}", away_later: "We are away. Leave a message and we will reply soon",
    too_many_conversations: "Too many new conversations from your network. Please try again later."
  };
  function t(key, vars) {
    return T[key].replace(/\{(\w+)\}/g, function (_, k) { return vars && vars[k] != null ? vars[k] : ""; });
  }

  // ---- persistent state (per website token) ----
  // Keyed by user too: another signed-in user on this browser must not inherit the session.
  var KEY = "kefu:" + token + (userId ? ":" + userId : "");
  var st = { session: null, conversation_id: null, seq: 0, read: 0, messages: [], agent: null, agent_read: 0, pre: null };
  try { var saved = JSON.parse(localStorage.getItem(KEY) || "null"); if (saved) st = Object.assign(st, saved); } catch (e) { /* private mode */ }
  // A file still uploading when the page closed cannot resume: its bytes are gone.
  st.messages.forEach(function (m) { if (m.uploading) { m.uploading = false; m.status = "failed"; } });
  function save() {
    // Keep the last 100 messages so a page reload shows history and after_seq stays truthful.
    var keep = st.messages.slice(-100);
    try {
      localStorage.setItem(KEY, JSON.stringify({
        session: st.session, conversation_id: st.conversation_id, seq: st.seq, read: st.read, messages: keep, agent: st.agent, agent_read: st.agent_read, pre: st.pre
      }));
    } catch (e) { /* quota or private mode */ }
  }

  // ---- DOM ----
  var CSS = ":host{all:initial}*{box-sizing:border-box}" +
    ".kf{--c:" + color + ";font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'PingFang SC','Microsoft YaHei',sans-serif;color:#1f2937}.launch{position:fixed;right:20px;bottom:20px;width:58px;height:58px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.22);display:flex;align-items:center;justify-content:center;transition:transform .15s;z-index:2147483000}" +
    ".launch:hover{transform:scale(1.06)}.launch svg{width:28px;height:28px}.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#ef4444;color:#fff;font-size:12px;font-weight:600;line-height:20px;text-align:center;border:2px solid #fff}" +
    ".panel{position:fixed;right:20px;bottom:90px;width:370px;height:min(580px,calc(100vh - 110px));background:#fff;border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.18);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;opacity:0;transform:translateY(12px) scale(.98);pointer-events:none;visibility:hidden;transition:opacity .18s,transform .18s,visibility .18s}" +
    ".panel.open{opacity:1;transform:none;pointer-events:auto;visibility:visible}.head{background:var(--c);color:#fff;padding:16px 18px;display:flex;align-items:center;gap:12px}.av{width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.22);display:flex;align-items:center;justify-content:center;flex:none}.av svg{width:20px;height:20px}.av img{width:100%;height:100%;border-radius:50%;object-fit:cover}.ht{flex:1;min-width:0}.ht b{display:block;font-size:16px;font-weight:600}" +
    ".ht span{display:block;font-size:12.5px;opacity:.85;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.av b{font-size:17px;font-weight:600}.clip{width:34px;height:38px;border:0;background:none;color:#9ca3af;cursor:pointer;flex:none;display:flex;align-items:center;justify-content:center}" +
    ".clip:hover{color:var(--c)}.clip svg{width:20px;height:20px}.foot.drag{outline:2px dashed var(--c);outline-offset:-4px}.x{background:none;border:0;color:#fff;cursor:pointer;padding:6px;border-radius:8px;opacity:.85}.x:hover{opacity:1;background:rgba(255,255,255,.15)}.x svg{width:18px;height:18px;display:block}.list{flex:1;overflow-y:auto;padding:16px 14px 8px;background:#f7f7fb;display:flex;flex-direction:column;gap:4px}.row{display:flex;flex-direction:column;max-width:80%}.row.in{align-self:flex-end;align-items:flex-end}" +
    ".row.out{align-self:flex-start;align-items:flex-start}.who{font-size:11.5px;color:#6b7280;margin:8px 4px 2px}.bub{padding:9px 13px;border-radius:16px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere}.in .bub{background:var(--c);color:#fff;border-bottom-right-radius:5px}" +
    ".out .bub{background:#fff;color:#1f2937;border:1px solid #e5e7eb;border-bottom-left-radius:5px}.in .bub a{color:#fff}.out .bub a{color:var(--c)}.bub[data-status=sending]{opacity:.65}.bub[data-status=failed]{background:#fee2e2;color:#991b1b}.meta{font-size:11px;color:#9ca3af;margin:2px 6px 4px}" +
    ".att{display:block;margin-top:6px}.att svg{width:13px;height:13px;vertical-align:-2px;margin-right:4px}.att img{max-width:220px;max-height:200px;border-radius:10px;display:block}.sys{align-self:center;font-size:12px;color:#6b7280;background:#eef0f5;border-radius:12px;padding:5px 12px;margin:8px 0;text-align:center;max-width:90%}.sys.err{background:#fef2f2;color:#b91c1c}" +
    ".greet{align-self:flex-start;background:#fff;border:1px solid #e5e7eb;border-radius:16px;border-bottom-left-radius:5px;padding:9px 13px;max-width:80%;margin-top:4px}.typing{font-size:12px;color:#6b7280;padding:0 18px 4px;min-height:18px;background:#f7f7fb}.dots{display:inline-block;margin-right:6px}.dots i{display:inline-block;width:5px;height:5px;margin:0 1px;border-radius:50%;background:#9ca3af;animation:b 1.2s infinite}.dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}@keyframes b{0%,60%,100%{transform:none;opacity:.5}" +
    "30%{transform:translateY(-3px);opacity:1}}.foot{border-top:1px solid #eceef3;padding:10px 10px 8px 6px;display:flex;align-items:flex-end;gap:8px;background:#fff}textarea{flex:1;border:0;outline:0;resize:none;font:inherit;color:inherit;max-height:120px;min-height:22px;padding:8px 0;background:transparent}" +
    ".send{width:38px;height:38px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;flex:none;display:flex;align-items:center;justify-content:center}.send:disabled{opacity:.4;cursor:default}.send svg{width:18px;height:18px}.pw{text-align:center;font-size:11px;color:#b0b4bf;padding:0 0 8px;background:#fff}@media (max-width:480px){.panel{right:0;bottom:0;width:100%;height:100%;border-radius:0}.panel.open~.launch{display:none}}";

  var ICON_CHAT = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/></svg>';
  var ICON_X = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><path d="M6 6l12 12M18 6L6 18"/></svg>';
  var ICON_DOWN = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"><path d="M6 9l6 6 6-6"/></svg>';
  var ICON_CLIP = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M21 11.5l-8.5 8.5a5.5 5.5 0 0 1-7.8-7.8l9-9a3.7 3.7 0 0 1 5.2 5.2l-9 9a1.8 1.8 0 0 1-2.6-2.6l8.3-8.3"/></svg>';
  var ICON_SEND = '<svg viewBox="0 0 24 24" fill="currentColor"><path d="M3.4 20.4l17.45-7.48a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z"/></svg>';

  var host = document.createElement("div");
  host.id = "kefu-widget";
  host.setAttribute("data-testid", "kefu-widget");
  host.setAttribute("style", "all:initial !important");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = "<style>" + CSS + "</style>" +
    '<div class="kf">' +
    '<div class="panel" data-testid="kefu-panel" role="dialog" aria-hidden="true">' +
    '<div class="head"><div class="av" data-testid="kefu-avatar">' + ICON_CHAT + '</div><div class="ht"><b data-testid="kefu-title"></b><span class="sub" data-testid="kefu-sub"></span></div>' +
    '<button class="x" type="button">' + ICON_DOWN + '</button></div>' +
    '<form class="pre" data-testid="kefu-prechat" hidden novalidate></form>' +
    '<div class="list" role="log" aria-live="polite"></div>' +
    '<div class="typing"></div><div class="offline" data-testid="kefu-offline" hidden></div><div class="csat" data-testid="kefu-csat" hidden></div>' +
    '<div class="foot"><button class="clip" type="button" data-testid="kefu-attach">' + ICON_CLIP + '</button>' +
    '<input type="file" multiple hidden data-testid="kefu-file-input"><textarea rows="1" data-testid="kefu-input"></textarea>' +
    '<button class="send" type="button" data-testid="kefu-send" disabled>' + ICON_SEND + '</button></div>' +
    '<div class="pw"></div></div>' +
    '<button class="launch" type="button" data-testid="kefu-launcher" aria-expanded="false">' + ICON_CHAT + '</button>' +
    "</div>";
  function $(sel) { return root.querySelector(sel); }
  var panel = $(".panel"), list = $(".list"), input = $("textarea"), sendBtn = $(".send");
  var launcher = $(".launch"), sub = $(".sub"), typingEl = $(".typing");
  var avatar = $(".av"), title = $(".ht b"), clip = $(".clip"), fileInput = $("input[type=file]"), foot = $(".foot");
  clip.setAttribute("aria-label", t("attach")); clip.title = t("attach");
  function setHead() {
    // The header shows who helps once an agent is assigned: their picture, else their initial.
    var name = st.agent && st.agent.name, pic = st.agent && st.agent.avatar_url && safeUrl(st.agent.avatar_url), img;
    title.textContent = name || t("title"); avatar.setAttribute("data-agent", name || ""); avatar.textContent = "";
    var initial = function () { avatar.textContent = ""; avatar.appendChild(el("b", null, Array.from(name.trim())[0] || "?")); };
    if (name && pic) { img = avatar.appendChild(el("img")); img.alt = ""; img.src = pic; img.setAttribute("data-testid", "kefu-avatar-img"); img.onerror = initial; }
    else if (name) initial(); else avatar.innerHTML = ICON_CHAT;
  }
  $(".pw").textContent = t("powered");
  $(".x").setAttribute("aria-label", t("close")); launcher.setAttribute("aria-label", t("open"));
  sendBtn.setAttribute("aria-label", t("send")); input.setAttribute("placeholder", t("placeholder")); input.setAttribute("aria-label", t("placeholder"));

  // ---- connection ----
  var ws = null, ready = false, attempts = 0, retryTimer = null, pingTimer = null, lastFrame = 0;
  var readSent = 0, openState = false, statusText = "", notices = [], agentTypingTimer = null, away = null, offline = null;

  function connect() {
    clearTimeout(retryTimer);
    if (ws) return;
    setSub();
    var sock;
    try { sock = new WebSocket(wsUrl); } catch (e) { return scheduleReconnect(); }
    ws = sock;
    sock.onopen = function () {
      lastFrame = Date.now();
      var hello = { type: "hello", website_token: token };
      if (st.session) hello.session = st.session;
      if (st.session && st.seq > 0 && st.messages.length) hello.after_seq = st.seq;
      if (userId) hello.identity = { user_id: String(userId), user_hash: userHash ? String(userHash) : undefined };
      if (visitorName) hello.name = String(visitorName);
      hello.locale = zh ? "zh-CN" : "en";
      sock.send(JSON.stringify(hello));
      clearInterval(pingTimer);
      pingTimer = setInterval(function () {
        // A silent socket (proxy dropped it without a close) is replaced after two missed pongs.
        if (Date.now() - lastFrame > 60000) { sock.close(); return; }
        send({ type: "ping" });
      }, 25000);
    };
    sock.onmessage = function (ev) {
      lastFrame = Date.now();
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f && typeof f.type === "string") handle(f);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null; ready = false;
      clearInterval(pingTimer);
      scheduleReconnect();
    };
    sock.onerror = function () { /* onclose follows */ };
  }
  function scheduleReconnect() {
    var base = Math.min(30000, 1000 * Math.pow(2, attempts++));
    setSub();
    retryTimer = setTimeout(connect, base / 2 + Math.random() * base / 2);
  }
  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }
  window.addEventListener("online", function () { if (!ws) { attempts = 0; connect(); } });

  // ---- messages ----
  function uid() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "c_" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function findBy(key, val) {
    for (var i = 0; i < st.messages.length; i++) if (val != null && st.messages[i][key] === val) return i;
    return -1;
  }
  function upsert(m) {
    if (!m || m.private) return;
    var i = findBy("id", m.id);
    if (i < 0 && m.client_id) i = findBy("client_id", m.client_id);
    var rec = { id: m.id, seq: m.seq, direction: m.direction, sender: m.sender || {},
      content: m.content || {}, created_at: m.created_at, status: "sent", client_id: m.client_id };
    if (i >= 0) st.messages[i] = Object.assign(st.messages[i], rec, { client_id: st.messages[i].client_id || m.client_id });
    else st.messages.push(rec);
    if (typeof m.seq === "number" && m.seq > st.seq) st.seq = m.seq;
  }
  function sortMessages() {
    // Stored messages by seq; unacknowledged ones stay at the end in the order typed.
    st.messages.sort(function (a, b) {
      var as = a.seq == null ? Infinity : a.seq, bs = b.seq == null ? Infinity : b.seq;
      if (as !== bs) return as - bs;
      return (a.local || 0) - (b.local || 0);
    });
  }

  function handle(f) {
    switch (f.type) {
      case "welcome":
        if ((st.session && f.session !== st.session) || (st.conversation_id && f.conversation_id !== st.conversation_id)) {
          // A different session or conversation: the old history and seq no longer apply.
          st.messages = st.messages.filter(function (m) { return m.status === "sending"; });
          st.seq = 0; st.read = 0; st.agent = null; st.agent_read = 0; setHead();
        }
        st.session = f.session; st.conversation_id = f.conversation_id;
        (f.messages || []).forEach(upsert);
        sortMessages();
        ready = true; attempts = 0; away = f.away || null; offline = f.offline || null; // away: outside business hours; offline: nobody online
        notices = notices.filter(function (n) { return !n.err; });
        // The pre-chat form: asked before the first message, answered again on a new socket.
        preForm = f.pre_chat && !f.conversation_id ? f.pre_chat : null;
        if (preForm && st.pre) send({ type: "pre_chat", name: st.pre.name, email: st.pre.email, fields: st.pre.fields });
        showPre(!!preForm && !st.pre);
        st.messages.forEach(function (m) { if (m.status === "sending") sendMessage(m); });
        save(); render(); setSub(); if (f.csat) askRating(f.csat.token); offerEmail();
        break;
      case "ack":
        var i = findBy("client_id", f.client_id);
        var dup = findBy("id", f.id);
        if (i >= 0 && dup >= 0 && dup !== i) { st.messages.splice(i, 1); }
        else if (i >= 0) { var m = st.messages[i]; m.id = f.id; m.seq = f.seq; m.status = "sent"; }
        if (f.conversation_id) st.conversation_id = f.conversation_id;
        sortMessages(); save(); render(); offerEmail();
        break;
      case "message":
        upsert(f.message);
        sortMessages(); save(); render();
        if (f.message && f.message.direction === "outbound") setAgentTyping(false);
        break;
      case "pre_chat_ok": showPre(false); break;
      case "csat": askRating(f.token); break;
      case "csat_ok": if (window.KefuCsat) window.KefuCsat.answer(f); break;
      case "email_ok": if (window.KefuOffline) window.KefuOffline.answer(f); break;
      case "typing": setAgentTyping(!!f.on, f.name); break;
      case "status": onStatus(f); break;
      case "error":
        if (f.code === "invalid_pre_chat" || f.code === "pre_chat_required") { st.pre = null; save(); showPre(true, f.field); break; }
        if (/^csat_|^invalid_rating$/.test(f.code) && window.KefuCsat) { window.KefuCsat.answer(f); break; }
        if (f.code === "invalid_email" && window.KefuOffline) { window.KefuOffline.answer(f); break; }
        var bad = f.client_id != null ? findBy("client_id", f.client_id) : -1;
        // A message the server refused for good is not resent on every reconnect.
        if (bad >= 0 && st.messages[bad].status === "sending") { st.messages[bad].status = "failed"; save(); }
        // Limits the visitor can act on are said in their language; anything else with the server's words.
        var known = f.code === "too_many_connections" || f.code === "too_many_conversations";
        notices.push({ text: known ? t(f.code) : t("error", { detail: f.detail || f.code || "" }), err: true, at: Date.now() });
        render();
        break;
    }
  }
  function onStatus(f) {
    var s = f.conversation_status || f.status;
    var pos = f.queue_position != null ? f.queue_position : f.position;
    var agent = f.agent && f.agent.name || f.agent_name;
    var read = f.agent_read_seq != null ? f.agent_read_seq : f.read_seq;
    if (typeof read === "number" && read > st.agent_read) { st.agent_read = read; save(); render(); }
    var pic = f.agent && typeof f.agent.avatar_url === "string" ? f.agent.avatar_url : null;
    if (agent && (s === "assigned" || !s)) { st.agent = { name: String(agent), avatar_url: pic }; save(); setHead(); }
    else if (s === "queued" || s === "resolved" || s === "closed") { st.agent = null; save(); setHead(); }
    if (s == null && pos == null && !agent) return;
    if (pos != null && pos > 0) statusText = t("queue", { n: pos });
    else if (s === "queued") statusText = t("queued");
    else if (agent && (s === "assigned" || !s)) statusText = t("assigned", { name: agent });
    else if (s === "resolved" || s === "closed") statusText = t("resolved");
    else if (s) statusText = "";
    setSub();
  }
  function setSub() {
    sub.textContent = ready ? (statusText || (away ? t(away.next_open ? "away" : "away_later", { time: fmtTime(away.next_open) }) : t("online"))) : (attempts > 0 ? t("reconnecting") : t("connecting"));
  }
  function setAgentTyping(on, name) {
    clearTimeout(agentTypingTimer);
    typingEl.textContent = "";
    if (!on) return;
    var d = document.createElement("span"); d.className = "dots"; d.innerHTML = "<i></i><i></i><i></i>";
    typingEl.appendChild(d);
    typingEl.appendChild(document.createTextNode(t("typing", { name: name || t("agent") })));
    agentTypingTimer = setTimeout(function () { typingEl.textContent = ""; }, 8000);
  }

  // ---- rendering ----
  function fmtTime(iso) {
    var d = iso ? new Date(iso) : new Date();
    if (isNaN(d)) return "";
    var now = new Date(), hm = d.toLocaleTimeString(zh ? "zh-CN" : undefined, { hour: "2-digit", minute: "2-digit" });
    if (d.toDateString() === now.toDateString()) return hm;
    return d.toLocaleDateString(zh ? "zh-CN" : undefined, { month: "short", day: "numeric" }) + " " + hm;
  }
  function linkify(el, text) {
    var re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g, last = 0, m;
    while ((m = re.exec(text))) {
      el.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a");
      a.href = m[0]; a.textContent = m[0]; a.target = "_blank"; a.rel = "noopener noreferrer";
      el.appendChild(a); last = m.index + m[0].length;
    }
    el.appendChild(document.createTextNode(text.slice(last)));
  }
  function safeUrl(u) {
    try { var x = new URL(u, origin); return /^https?:$/.test(x.protocol) ? x.href : null; } catch (e) { return null; }
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function render() {
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    list.textContent = "";
    list.appendChild(el("div", "greet", t("greeting")));
    var prevWho = null, ni = 0, lastInbound = -1;
    st.messages.forEach(function (m, idx) { if (m.direction === "inbound" && m.seq != null) lastInbound = idx; });
    function flushNotices(iso) {
      // Notices are local and sit in time order among the messages.
      while (ni < notices.length && (iso == null || notices[ni].at < (Date.parse(iso) || 0))) {
        list.appendChild(el("div", notices[ni].err ? "sys err" : "sys", notices[ni].text)); ni++;
        prevWho = null;
      }
    }
    st.messages.forEach(function (m, idx) {
      flushNotices(m.created_at || "");
      var c = m.content || {};
      if (m.sender && m.sender.type === "system") {
        list.appendChild(el("div", "sys", c.text || "")); prevWho = null; return;
      }
      var inbound = m.direction === "inbound";
      var row = el("div", "row " + (inbound ? "in" : "out"));
      var isBot = m.sender && m.sender.type === "bot";
      var who = inbound ? "me" : isBot ? "bot" : (m.sender && (m.sender.id || m.sender.name)) || "agent";
      if (!inbound && who !== prevWho) row.appendChild(el("div", "who", (m.sender && m.sender.name) || t(isBot ? "bot" : "agent")));
      prevWho = who;
      var b = el("div", "bub");
      b.setAttribute("data-testid", "kefu-message");
      b.setAttribute("data-direction", m.direction);
      b.setAttribute("data-status", m.status === "sending" || m.status === "failed" ? m.status : "sent");
      if (m.id) b.setAttribute("data-id", m.id);
      if (c.text) linkify(b, c.text);
      (c.attachments || []).forEach(function (a) {
        var href = a.url ? safeUrl(a.url) : null;
        if (!href) { var p = el("span", "att"); p.innerHTML = ICON_CLIP; p.appendChild(document.createTextNode(a.name || "")); b.appendChild(p); return; }
        var link = el("a", "att"); link.href = href; link.target = "_blank"; link.rel = "noopener noreferrer";
        if (/^image\//.test(a.mime || "")) { var img = document.createElement("img"); img.src = href; img.alt = a.name || ""; link.appendChild(img); }
        else { link.innerHTML = ICON_CLIP; link.appendChild(document.createTextNode(a.name || href)); }
        b.appendChild(link);
      });
      row.appendChild(b);
      var meta = fmtTime(m.created_at);
      if (inbound) {
        if (m.status === "sending") meta += " \u00b7 " + t("sending");
        else if (m.status === "failed") meta += " \u00b7 " + t("failed");
      }
      var metaEl = el("div", "meta", meta);
      if (inbound && idx === lastInbound && m.status === "sent") {
        var seen = st.agent_read >= m.seq, r = el("span", null, " \u00b7 " + (seen ? t("read") : t("sent")));
        r.setAttribute("data-testid", "kefu-receipt"); r.setAttribute("data-state", seen ? "seen" : "sent");
        metaEl.appendChild(r);
      }
      row.appendChild(metaEl);
      list.appendChild(row);
    });
    flushNotices(null);
    if (atBottom || !openState) list.scrollTop = list.scrollHeight;
    updateUnread();
  }

  // ---- unread + read receipts ----
  function maxAgentSeq() {
    var s = 0;
    st.messages.forEach(function (m) { if (m.direction === "outbound" && m.seq > s) s = m.seq; });
    return s;
  }
  function updateUnread() {
    var n = 0;
    if (openState && document.visibilityState !== "hidden") {
      var top = maxAgentSeq();
      if (top > st.read) { st.read = top; save(); }
      // Sent once per new high mark; a mark reached while offline goes out after welcome.
      if (ready && st.read > readSent && send({ type: "read", seq: st.read })) readSent = st.read;
    } else {
      st.messages.forEach(function (m) { if (m.direction === "outbound" && m.seq > st.read) n++; });
    }
    var badge = launcher.querySelector(".badge");
    if (n > 0) {
      if (!badge) { badge = el("span", "badge"); badge.setAttribute("data-testid", "kefu-unread"); launcher.appendChild(badge); }
      badge.textContent = n > 99 ? "99+" : String(n);
    } else if (badge) badge.remove();
  }
  document.addEventListener("visibilitychange", updateUnread);

  // ---- open / close ----
  function setOpen(v) {
    openState = !!v;
    panel.classList.toggle("open", openState);
    panel.setAttribute("aria-hidden", openState ? "false" : "true");
    launcher.setAttribute("aria-expanded", openState ? "true" : "false");
    launcher.innerHTML = openState ? ICON_X : ICON_CHAT;
    launcher.setAttribute("aria-label", openState ? t("close") : t("open"));
    if (openState) { list.scrollTop = list.scrollHeight; setTimeout(function () { input.focus(); }, 50); }
    updateUnread();
  }
  launcher.addEventListener("click", function () { setOpen(!openState); });
  $(".x").addEventListener("click", function () { setOpen(false); });

  // ---- composing ----
  var typingOn = false, typingSentAt = 0, typingIdle = null;
  function typing(on) {
    clearTimeout(typingIdle);
    if (on) {
      if (!typingOn || Date.now() - typingSentAt > 3000) { send({ type: "typing", on: true }); typingSentAt = Date.now(); }
      typingOn = true;
      typingIdle = setTimeout(function () { typing(false); }, 4000);
    } else if (typingOn) { typingOn = false; send({ type: "typing", on: false }); }
  }
  function autosize() { input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight, 120) + "px"; }
  input.addEventListener("input", function () {
    sendBtn.disabled = !input.value.trim();
    autosize();
    typing(!!input.value.trim());
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  });
  sendBtn.addEventListener("click", submit);
  function submit() {
    var text = input.value.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    var m = { client_id: uid(), direction: "inbound", status: "sending", local: Date.now(), created_at: new Date().toISOString(),
      sender: { type: "contact", name: visitorName || t("you") }, content: { text: text, attachments: [] } };
    st.messages.push(m);
    input.value = ""; sendBtn.disabled = true; autosize();
    typing(false);
    if (ready) sendMessage(m);
    save(); render();
    list.scrollTop = list.scrollHeight;
  }
  function sendMessage(m) {
    var f = { type: "message", client_id: m.client_id, text: m.content.text || "" };
    if (m.tickets) f.attachments = m.tickets;
    if (!m.uploading) send(f);
  }

  // Parts that load on first use: /widget-<name>.js defines window[global](k).
  var parts = {};
  function part(name, global, k, still) {
    if (window[global]) return window[global](k);
    if (!parts[name]) { parts[name] = document.createElement("script"); parts[name].src = origin + "/widget-" + name + ".js"; document.head.appendChild(parts[name]); }
    parts[name].addEventListener("load", function () { if (window[global] && (!still || still())) window[global](k); });
  }
  // ---- the pre-chat form, loaded only by inboxes that ask one ----
  var preForm = null, preEl = $(".pre");
  function showPre(on, badField) {
    $(".kf").classList.toggle("asking", !!(on && preForm));
    preEl.hidden = !(on && preForm); preEl.textContent = "";
    if (!on || !preForm) return;
    var k = { el: el, zh: zh, st: st, save: save, send: send, form: preForm, preEl: preEl, bad: badField };
    part("prechat", "KefuPreChat", k, function () { return !preEl.hidden; });
  }
  // The satisfaction card, when a resolved conversation asks for a rating.
  function askRating(tk) { part("csat", "KefuCsat", { el: el, zh: zh, send: send, box: $(".csat"), token: tk }); }
  // Nobody online: once the visitor has written, an offer to take an email address for the reply.
  function offerEmail() { if (offline && offline.ask_email && st.conversation_id && !(st.pre && st.pre.email) && !st.email) part("offline", "KefuOffline", { el: el, zh: zh, send: send, box: $(".offline"), st: st, save: save }); }

  // ---- files: the paperclip, paste and drop; the upload is in /widget-files.js, loaded on first use ----
  function attach(files) {
    var k = { files: Array.prototype.slice.call(files || []), st: st, t: t, uid: uid, save: save, render: render, list: list,
      notice: function (text) { notices.push({ text: text, err: true, at: Date.now() }); },
      token: token, origin: origin, you: visitorName || t("you"), ready: function () { return ready; }, sendMessage: sendMessage };
    if (!k.files.length) return;
    part("files", "KefuFiles", k);
  }
  clip.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () { attach(fileInput.files); fileInput.value = ""; });
  input.addEventListener("paste", function (e) {
    var files = e.clipboardData && e.clipboardData.files;
    if (files && files.length) { e.preventDefault(); attach(files); }
  });
  panel.addEventListener("dragover", function (e) { e.preventDefault(); foot.classList.add("drag"); });
  panel.addEventListener("dragleave", function (e) { if (e.target === panel || !panel.contains(e.relatedTarget)) foot.classList.remove("drag"); });
  panel.addEventListener("drop", function (e) {
    e.preventDefault(); foot.classList.remove("drag");
    if (e.dataTransfer && e.dataTransfer.files.length) attach(e.dataTransfer.files);
  });

  window.Kefu = {
    loaded: true, root: root,
    open: function () { setOpen(true); }, close: function () { setOpen(false); },
    toggle: function () { setOpen(!openState); }
  };
  function mount() { document.body.appendChild(host); setHead(); render(); connect(); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
