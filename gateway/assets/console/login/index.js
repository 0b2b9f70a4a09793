// The sign-in screen.

import { api } from "../api.js";
import { t, registerStrings } from "../i18n.js";
import { h, mount } from "../dom.js";
import { describeError } from "../errors.js";
import { langButton } from "../shell/header.js";
import strings from "./strings.js";

registerStrings(strings);

/**
 * @param {HTMLElement} root
 * @param {{notice?: string|null, onSignedIn: () => void}} o
 */
export function renderLogin(root, o) {
  document.title = t("app.title");
  const err = h("div", { class: "form-error", role: "alert", "data-testid": "login-error", hidden: !o.notice }, o.notice || "");
  const email = h("input", { type: "email", id: "email", autocomplete: "username", required: true, "data-testid": "login-email" });
  const password = h("input", { type: "password", id: "password", autocomplete: "current-password", required: true, "data-testid": "login-password" });
  const submit = h("button", { type: "submit", class: "btn primary block", "data-testid": "login-submit" }, t("login.submit"));
  const form = h("form", {
    class: "login-card",
    onsubmit: async (/** @type {Event} */ ev) => {
      ev.preventDefault();
      err.hidden = true;
      submit.disabled = true;
      submit.textContent = t("login.busy");
      try {
        await api.login(email.value.trim(), password.value);
        o.onSignedIn();
      } catch (e) {
        const { text, extra } = describeError(e);
        mount(err, text, extra ? h("div", { class: "error-extra" }, extra) : null);
        err.hidden = false;
        submit.disabled = false;
        submit.textContent = t("login.submit");
      }
    },
  },
  h("div", { class: "brand big" }, h("span", { class: "logo" }, "K"), "Kefu"),
  h("h1", {}, t("login.title")),
  h("p", { class: "muted" }, t("login.subtitle")),
  err,
  h("label", { for: "email" }, t("login.email")), email,
  h("label", { for: "password" }, t("login.password")), password,
  submit);
  mount(root, h("main", { class: "login" }, h("div", { class: "login-lang" }, langButton(false)), form));
  email.focus();
}
