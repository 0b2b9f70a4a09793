/*! Kefu web chat widget: the satisfaction card. /widget.js loads it when a resolved conversation
 * asks for a rating and calls window.KefuCsat(k) (k: el, zh, send, box, token), then
 * window.KefuCsat.answer(frame) with the server's csat_ok or error frame. */
(function () {
  "use strict";
  // Non-ASCII text is \u-escaped: host pages in GBK or Big5 would otherwise garble it.
  var STRINGS = {
    zh: {
      ask: "\u60a8\u5bf9\u672c\u6b21\u670d\u52a1\u6ee1\u610f\u5417\uff1f", comment: "\u8fd8\u6709\u4ec0\u4e48\u60f3\u544a\u8bc9\u6211\u4eec\u7684\u5417\uff1f\uff08\u9009\u586b\uff09", submit: "\u63d0\u4ea4\u8bc4\u4ef7",
      thanks: "\u611f\u8c22\u60a8\u7684\u8bc4\u4ef7\uff01", labels: ["\u975e\u5e38\u4e0d\u6ee1\u610f", "\u4e0d\u6ee1\u610f", "\u4e00\u822c", "\u6ee1\u610f", "\u975e\u5e38\u6ee1\u610f"],
      csat_already_submitted: "\u60a8\u5df2\u7ecf\u8bc4\u4ef7\u8fc7\u4e86\uff0c\u8c22\u8c22\uff01", csat_expired: "\u8bc4\u4ef7\u5df2\u8fc7\u671f\u3002", failed: "\u8bc4\u4ef7\u672a\u80fd\u63d0\u4ea4\uff1a{detail}"
    },
    en: {
      ask: "How would you rate the help you received?", comment: "Anything you would like to add? (optional)", submit: "Send rating",
      thanks: "Thank you for your rating!", labels: ["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"],
      csat_already_submitted: "You have rated this conversation already. Thank you!", csat_expired: "This rating has expired.", failed: "The rating was not sent: {detail}"
    }
  };
  var CSS = ".csat{padding:12px 14px;background:#fff;border-top:1px solid #eceef3;display:flex;flex-direction:column;gap:8px}.csat[hidden]{display:none}" +
    ".csat .stars{display:flex;gap:4px}.csat .stars button{font-size:24px;line-height:1;border:0;background:none;color:#d1d5db;cursor:pointer;padding:2px}" +
    ".csat .stars button.on{color:#f59e0b}.csat textarea{border:1px solid #d1d5db;border-radius:8px;padding:6px 8px;min-height:52px;font:inherit;resize:vertical}" +
    ".csat .go{font:inherit;font-weight:600;padding:8px;border:0;border-radius:8px;background:var(--c);color:#fff;cursor:pointer}.csat .go:disabled{opacity:.45;cursor:default}" +
    ".csat .msg{font-size:12.5px;color:#6b7280}.csat .msg.err{color:#b91c1c}";
  var box = null, T = STRINGS.en;

  function say(text, err) {
    var m = box.querySelector(".msg") || box.appendChild(document.createElement("div"));
    m.className = "msg" + (err ? " err" : ""); m.textContent = text; m.setAttribute("data-testid", "kefu-csat-msg");
  }

  /** Shows the card in `k.box`; the rating goes out as a `rate` frame. */
  window.KefuCsat = function (k) {
    T = k.zh ? STRINGS.zh : STRINGS.en; box = k.box;
    var root = box.getRootNode();
    if (!root.querySelector("style[data-kefu-csat]")) {
      var style = document.createElement("style"); style.setAttribute("data-kefu-csat", ""); style.textContent = CSS;
      root.appendChild(style);
    }
    var chosen = 0, el = k.el;
    box.textContent = ""; box.hidden = false; box.setAttribute("data-state", "asking");
    box.appendChild(el("div", null, T.ask));
    var stars = box.appendChild(el("div", "stars")), buttons = [];
    for (var r = 1; r <= 5; r++) {
      var b = el("button", null, "\u2605"); b.type = "button"; b.title = T.labels[r - 1];
      b.setAttribute("aria-label", r + " \u2013 " + T.labels[r - 1]); b.setAttribute("data-testid", "kefu-csat-" + r);
      b.onclick = (function (n) { return function () { chosen = n; paint(); }; })(r);
      buttons.push(stars.appendChild(b));
    }
    var comment = box.appendChild(el("textarea")); comment.placeholder = T.comment; comment.maxLength = 2000;
    comment.setAttribute("data-testid", "kefu-csat-comment"); comment.setAttribute("aria-label", T.comment);
    var go = box.appendChild(el("button", "go", T.submit)); go.type = "button"; go.disabled = true; go.setAttribute("data-testid", "kefu-csat-submit");
    function paint() {
      buttons.forEach(function (b, i) { b.classList.toggle("on", i < chosen); b.setAttribute("aria-pressed", String(i < chosen)); });
      go.disabled = !chosen;
    }
    go.onclick = function () {
      if (!chosen) return;
      go.disabled = true;
      var text = comment.value.replace(/^\s+|\s+$/g, "");
      k.send({ type: "rate", token: k.token, rating: chosen, comment: text || undefined });
    };
  };

  /** The server's answer to the `rate` frame. */
  window.KefuCsat.answer = function (f) {
    if (!box) return;
    if (f.type === "csat_ok") {
      box.textContent = ""; box.setAttribute("data-state", "done"); say(T.thanks);
      return;
    }
    var known = T[f.code];
    if (f.code === "csat_already_submitted" || f.code === "csat_expired") { box.textContent = ""; box.setAttribute("data-state", "closed"); }
    else { var go = box.querySelector(".go"); if (go) go.disabled = false; }
    say(known || T.failed.replace("{detail}", f.detail || f.code || ""), !known);
  };
})();
