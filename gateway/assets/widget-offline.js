/*! Kefu web chat widget: the offer to take an email address while nobody is online. /widget.js
 * loads it once a visitor has written to an inbox whose welcome said `offline.ask_email`, and
 * calls window.KefuOffline(k) (k: el, zh, send, box, st, save), then
 * window.KefuOffline.answer(frame) with the server's email_ok or error frame. */
(function () {
  "use strict";
  // Non-ASCII text is \u-escaped: host pages in GBK or Big5 would otherwise garble it.
  var STRINGS = {
    zh: { ask: "\u73b0\u5728\u6ca1\u6709\u5ba2\u670d\u5728\u7ebf\u3002\u7559\u4e0b\u60a8\u7684\u90ae\u7bb1\uff0c\u56de\u590d\u4f1a\u540c\u65f6\u53d1\u9001\u5230\u90ae\u7bb1\u3002", placeholder: "\u60a8\u7684\u90ae\u7bb1\u5730\u5740", submit: "\u7559\u4e0b\u90ae\u7bb1", thanks: "\u597d\u7684\uff0c\u6211\u4eec\u4f1a\u628a\u56de\u590d\u53d1\u9001\u5230 {email}\u3002", invalid_email: "\u8fd9\u4e2a\u90ae\u7bb1\u5730\u5740\u770b\u8d77\u6765\u4e0d\u5bf9\uff0c\u8bf7\u68c0\u67e5\u3002", failed: "\u90ae\u7bb1\u672a\u80fd\u4fdd\u5b58\uff1a{detail}" },
    en: { ask: "No one is online right now. Leave your email and we will send the reply there too.", placeholder: "Your email address", submit: "Leave my email", thanks: "Thanks, we will send the reply to {email}.", invalid_email: "This does not look like an email address; please check it.", failed: "The address was not saved: {detail}" }
  };
  var CSS = ".offline{padding:10px 14px;background:#fffbeb;border-top:1px solid #fde68a;display:flex;flex-direction:column;gap:8px;font-size:13px}" +
    ".offline[hidden]{display:none}.offline form{display:flex;gap:6px}.offline input{flex:1;min-width:0;border:1px solid #d1d5db;border-radius:8px;padding:6px 8px;font:inherit}" +
    ".offline .go{font:inherit;font-weight:600;padding:6px 10px;border:0;border-radius:8px;background:var(--c);color:#fff;cursor:pointer}.offline .go:disabled{opacity:.45;cursor:default}" +
    ".offline .msg{font-size:12.5px;color:#6b7280}.offline .msg.err{color:#b91c1c}";
  var k = null, T = STRINGS.en;

  function say(text, err) {
    var m = k.box.querySelector(".msg") || k.box.appendChild(k.el("div"));
    m.className = "msg" + (err ? " err" : ""); m.textContent = text; m.setAttribute("data-testid", "kefu-offline-msg");
  }

  /** Shows the offer in `k.box` once; the address goes out as an `email` frame. */
  window.KefuOffline = function (ctx) {
    if (k && k.box === ctx.box && !ctx.box.hidden) return; // already showing
    k = ctx; T = k.zh ? STRINGS.zh : STRINGS.en;
    var root = k.box.getRootNode();
    if (!root.querySelector("style[data-kefu-offline]")) {
      var style = document.createElement("style"); style.setAttribute("data-kefu-offline", ""); style.textContent = CSS;
      root.appendChild(style);
    }
    var box = k.box;
    box.textContent = ""; box.hidden = false; box.setAttribute("data-state", "asking");
    box.appendChild(k.el("div", null, T.ask));
    var form = box.appendChild(k.el("form")); form.noValidate = true;
    var input = form.appendChild(k.el("input")); input.type = "email"; input.autocomplete = "email"; input.maxLength = 254;
    input.placeholder = T.placeholder; input.setAttribute("aria-label", T.placeholder); input.setAttribute("data-testid", "kefu-offline-email");
    input.oninput = function () { var m = box.querySelector(".msg"); if (m) m.remove(); };
    var go = form.appendChild(k.el("button", "go", T.submit)); go.type = "submit"; go.setAttribute("data-testid", "kefu-offline-submit");
    form.onsubmit = function (e) {
      e.preventDefault();
      var email = input.value.replace(/^\s+|\s+$/g, "");
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) { say(T.invalid_email, true); input.focus(); return; }
      go.disabled = true;
      k.send({ type: "email", email: email });
    };
  };

  /** The server's answer to the `email` frame. */
  window.KefuOffline.answer = function (f) {
    if (!k) return;
    if (f.type === "email_ok") {
      k.st.email = f.email; k.save();
      k.box.textContent = ""; k.box.setAttribute("data-state", "done"); say(T.thanks.replace("{email}", f.email));
      return;
    }
    var go = k.box.querySelector(".go"); if (go) go.disabled = false;
    say(f.code === "invalid_email" ? T.invalid_email : T.failed.replace("{detail}", f.detail || f.code || ""), true);
  };
})();
