/*! Kefu web chat widget: the pre-chat form. /widget.js loads it only for inboxes that ask one,
 * and calls window.KefuPreChat(k) with what it needs (k: el, zh, st, save, send, form, preEl, bad). */
(function () {
  "use strict";
  // Non-ASCII text is \u-escaped: host pages in GBK or Big5 would otherwise garble it.
  var STRINGS = {
    zh: {
      pre_intro: "\u5f00\u59cb\u804a\u5929\u524d\uff0c\u8bf7\u7559\u4e0b\u60a8\u7684\u4fe1\u606f\u3002", pre_name: "\u59d3\u540d", pre_email: "\u90ae\u7bb1", pre_start: "\u5f00\u59cb\u804a\u5929",
      pre_required: "\u8bf7\u586b\u5199{label}\u3002", pre_email_bad: "\u8bf7\u8f93\u5165\u6709\u6548\u7684\u90ae\u7bb1\u5730\u5740\u3002", pre_invalid: "\u8bf7\u68c0\u67e5{label}\u3002"
    },
    en: {
      pre_intro: "Tell us a little about you before we start.", pre_name: "Name", pre_email: "Email", pre_start: "Start chat",
      pre_required: "Please fill in {label}.", pre_email_bad: "Please enter a valid email address.", pre_invalid: "Please check {label}."
    }
  };
  var CSS = ".pre{flex:1;overflow-y:auto;padding:18px;background:#f7f7fb;display:flex;flex-direction:column;gap:10px}.pre label{font-size:12.5px;color:#4b5563;display:flex;flex-direction:column;gap:4px}" +
    ".pre input{font:inherit;padding:8px 10px;border:1px solid #d1d5db;border-radius:8px;outline-color:var(--c)}.pre .perr{color:#b91c1c;font-size:12px}.pre button{font:inherit;font-weight:600;padding:9px;border:0;border-radius:8px;background:var(--c);color:#fff;cursor:pointer}" +
    ".pre[hidden],.asking .list,.asking .typing,.asking .foot{display:none}";

  /** Renders the form `k.form` into `k.preEl`; answers go out as a `pre_chat` frame. */
  window.KefuPreChat = function (k) {
    var T = k.zh ? STRINGS.zh : STRINGS.en, el = k.el, st = k.st, preEl = k.preEl, preForm = k.form;
    function t(key, vars) {
      return T[key].replace(/\{(\w+)\}/g, function (_, n) { return vars && vars[n] != null ? vars[n] : ""; });
    }
    var root = preEl.getRootNode();
    if (!root.querySelector("style[data-kefu-prechat]")) {
      var style = document.createElement("style"); style.setAttribute("data-kefu-prechat", ""); style.textContent = CSS;
      root.appendChild(style);
    }
    preEl.textContent = "";
    preEl.appendChild(el("div", null, t("pre_intro")));
    var inputs = [];
    function add(key, label, type, required) {
      var l = el("label", null, label + (required ? " *" : "")), i = el("input");
      i.type = type; i.name = key; i.setAttribute("data-testid", "kefu-prechat-" + key);
      var v = st.pre && (key === "name" || key === "email" ? st.pre[key] : (st.pre.fields || {})[key]);
      if (v) i.value = v;
      l.appendChild(i); preEl.appendChild(l);
      inputs.push({ key: key, label: label, type: type, required: required, input: i, label_el: l });
    }
    if (preForm.name && preForm.name !== "off") add("name", t("pre_name"), "text", preForm.name === "required");
    if (preForm.email && preForm.email !== "off") add("email", t("pre_email"), "email", preForm.email === "required");
    (preForm.fields || []).forEach(function (f) { add(f.key, f.label, "text", !!f.required); });
    var go = el("button", null, t("pre_start")); go.type = "submit"; go.setAttribute("data-testid", "kefu-prechat-submit");
    preEl.appendChild(go);
    function flag(x, key) {
      var e = el("div", "perr", t(key, { label: x.label })); e.setAttribute("data-testid", "kefu-prechat-error");
      x.label_el.appendChild(e);
    }
    inputs.forEach(function (x) { if (x.key === k.bad) flag(x, x.key === "email" ? "pre_email_bad" : "pre_invalid"); });
    preEl.onsubmit = function (e) {
      e.preventDefault();
      Array.prototype.forEach.call(preEl.querySelectorAll(".perr"), function (n) { n.remove(); });
      var ans = { name: undefined, email: undefined, fields: {} }, ok = true;
      inputs.forEach(function (x) {
        var v = x.input.value.replace(/^\s+|\s+$/g, "");
        if (!v && x.required) { ok = false; flag(x, "pre_required"); }
        else if (v && x.type === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) { ok = false; flag(x, "pre_email_bad"); }
        if (x.key === "name" || x.key === "email") ans[x.key] = v || undefined; else if (v) ans.fields[x.key] = v;
      });
      if (!ok) return;
      st.pre = ans; k.save();
      k.send({ type: "pre_chat", name: ans.name, email: ans.email, fields: ans.fields });
    };
  };
})();
