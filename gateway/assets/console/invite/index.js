// Accepting an invitation (`#/invite/<token>`, no sign-in needed): the invited agent sets
// their password and is signed in.

import { api, session } from "../api.js";
import { t, registerStrings } from "../i18n.js";
import { h, mount } from "../dom.js";
import { describeError } from "../errors.js";
import { langButton } from "../shell/header.js";
import { field, formErrors, localError, submitting } from "../forms/index.js";
import strings from "./strings.js";

registerStrings(strings);

/**
 * @param {HTMLElement} root
 * @param {string} token
 * @param {() => void} onSignedIn
 */
export async function renderInvite(root, token, onSignedIn) {
  document.title = `${t("invite.title")} · ${t("app.title")}`;
  const card = h("div", { class: "login-card", "data-testid": "invite" }, h("p", { class: "muted" }, t("invite.loading")));
  mount(root, h("main", { class: "login" }, h("div", { class: "login-lang" }, langButton(false)), card));
  /** @type {{email: string, name: string}} */
  let invite;
  try {
    invite = await api.get(`/invites/${encodeURIComponent(token)}`);
  } catch (e) {
    const { text, extra } = describeError(e);
    mount(card,
      h("div", { class: "brand big" }, h("span", { class: "logo" }, "K"), "Kefu"),
      h("div", { class: "form-error", role: "alert", "data-testid": "invite-error" }, text, extra ? h("div", { class: "error-extra" }, extra) : null),
      h("a", { href: "#/", class: "btn block", "data-testid": "invite-to-login" }, t("invite.toLogin")));
    return;
  }
  const password = h("input", { type: "password", class: "input", autocomplete: "new-password", required: true, minlength: "8", "data-testid": "invite-password" });
  const confirm = h("input", { type: "password", class: "input", autocomplete: "new-password", required: true, "data-testid": "invite-confirm" });
  const submit = h("button", { type: "submit", class: "btn primary block", "data-testid": "invite-submit" }, t("invite.submit"));
  const form = h("form", { class: "stack", novalidate: true },
    h("input", { type: "email", hidden: true, autocomplete: "username", value: invite.email }),
    field({ label: t("invite.password"), control: password, name: "password", hint: t("invite.hint"), testid: "invite-password" }),
    field({ label: t("invite.confirm"), control: confirm, name: "confirm", testid: "invite-confirm" }),
    submit);
  const errors = formErrors(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (password.value !== confirm.value) {
      errors.show(localError("confirm", t("invite.mismatch")));
      return;
    }
    await submitting(submit, errors, async () => {
      const data = await api.post(`/invites/${encodeURIComponent(token)}/accept`, { password: password.value });
      session.save(data.token, data.agent);
      onSignedIn();
    });
  });
  mount(card,
    h("div", { class: "brand big" }, h("span", { class: "logo" }, "K"), "Kefu"),
    h("h1", {}, t("invite.title")),
    h("p", { class: "muted" }, t("invite.subtitle")),
    h("div", { class: "invite-account", "data-testid": "invite-account" },
      h("span", { class: "muted" }, t("invite.account")), " ", h("strong", {}, invite.name), " · ", invite.email),
    form);
  password.focus();
}
