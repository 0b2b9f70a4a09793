// Profile (every agent): their picture (shown to colleagues and in the web chat header), name,
// language, notification preferences, and a password change that asks for the current
// password.

import { session } from "../../api.js";
import { registerStrings, setLang, LANGS } from "../../i18n.js";
import { h, mount, toast, avatar } from "../../dom.js";
import { errorText } from "../../errors.js";
import { askDesktopPermission } from "../../conversations/notify.js";
import { field, input, select, checkbox, formErrors, localError, submitting } from "../../forms/index.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../page.js").PageContext} PageContext */
/** @typedef {import("../../types.js").Notifications} Notifications */

/** @type {(keyof Notifications)[]} */
const NOTIFY = ["sound", "desktop", "new_assignment", "new_message", "mention"];
/** Idle times before `away` offered, in minutes (0: never). */
const AWAY_AFTER = [0, 5, 10, 15, 30, 60, 120];

/** @type {import("../page.js").Page} */
export const page = {
  id: "profile",
  titleKey: "profile.title",
  minRole: "agent",
  async render(container, ctx) {
    const { api, t, store } = ctx;
    mount(container, h("p", { class: "muted" }, t("common.loading")));
    /** @type {import("../../types.js").Profile} */
    const me = { ...ctx.me, ...(await api.get("/profile").catch((e) => {
      if (e.status === 404) return {}; // a server without profiles: the agent view is enough
      throw e;
    })) };
    container.classList.add("narrow");
    mount(container, pictureCard(ctx, me), detailsForm(ctx, me), passwordForm(ctx));

    /**
     * The agent's picture: upload (PNG, JPEG, GIF or WebP up to 1 MiB) or remove.
     * @param {PageContext} ctx
     * @param {import("../../types.js").Profile} me
     */
    function pictureCard(ctx, me) {
      const card = h("section", { class: "card stack", "data-testid": "profile-picture" });
      const picker = /** @type {HTMLInputElement} */ (h("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", hidden: "", "data-testid": "profile-picture-input" }));
      /** @param {import("../../types.js").Profile} p */
      const adopt = (p) => {
        me.avatar_url = p.avatar_url ?? null;
        const cur = store.get("me");
        if (cur) {
          store.set("me", { ...cur, avatar_url: me.avatar_url });
          session.save(null, store.get("me"));
        }
        draw();
      };
      const draw = () => mount(card,
        h("h2", {}, t("profile.picture")),
        h("div", { class: "toolbar" },
          avatar(me.name || me.email, me.id, "avatar lg", me.avatar_url),
          h("button", { type: "button", class: "btn small", "data-testid": "profile-picture-upload", onclick: () => picker.click() }, t("profile.pictureUpload")),
          me.avatar_url ? h("button", { type: "button", class: "btn small", "data-testid": "profile-picture-remove", onclick: async () => {
            try { adopt(await api.del("/profile/avatar")); toast(t("profile.pictureRemoved"), "info"); } catch (e) { toast(errorText(e)); }
          } }, t("profile.pictureRemove")) : null),
        h("p", { class: "muted" }, t("profile.pictureHelp")), picker);
      picker.addEventListener("change", async () => {
        const file = picker.files && picker.files[0];
        picker.value = "";
        if (!file) return;
        try {
          const up = await api.upload(file);
          adopt(await api.put("/profile/avatar", { attachment_id: up.id }));
          toast(t("profile.pictureSaved"), "info");
        } catch (e) { toast(errorText(e)); }
      });
      draw();
      return card;
    }

    /**
     * @param {PageContext} ctx
     * @param {import("../../types.js").Profile} me
     */
    function detailsForm(ctx, me) {
      const name = input({ value: me.name || "", testid: "profile-name", autocomplete: "name", required: true });
      // The language shown is the one in use (a switch in the header saves it to the profile); it
      // is not carried over as typed input when the switch re-renders the page.
      const lang = select({ testid: "profile-language", "data-draft": "off" }, LANGS.map((l) => [l, t(`lang.${l}`)]), store.get("lang") || me.language);
      const notes = me.notifications || { sound: true, desktop: false, new_assignment: true, new_message: true, mention: true };
      const boxes = NOTIFY.map((k) => ({ k, ...checkbox({ label: t(`profile.notify.${k}`), checked: !!notes[k], testid: `profile-notify-${k}` }) }));
      for (const b of boxes) if (b.k === "desktop") b.box.addEventListener("change", () => { if (b.box.checked) askDesktopPermission(); });
      const away = select({ testid: "profile-away" }, AWAY_AFTER.map((m) => [String(m), m ? t("profile.awayAfterN", { n: m }) : t("profile.awayNever")]),
        String(me.away_after_minutes ?? 0));
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "profile-save" }, t("profile.save"));
      const form = h("form", { class: "card stack", "data-testid": "profile-form", novalidate: true },
        h("h2", {}, t("profile.details")),
        h("dl", { class: "facts" },
          h("dt", {}, t("profile.email")), h("dd", { "data-testid": "profile-email" }, me.email),
          h("dt", {}, t("profile.role")), h("dd", {}, t(`role.${me.role}`))),
        field({ label: t("profile.name"), control: name, name: "name", testid: "profile-name" }),
        field({ label: t("profile.language"), control: lang, name: "language", testid: "profile-language" }),
        field({ label: t("profile.away"), control: away, name: "away_after_minutes", testid: "profile-away", help: t("profile.awayHelp") }),
        h("fieldset", { class: "field", "data-field": "notifications" },
          h("legend", {}, t("profile.notifications")),
          boxes.map((b) => b.row),
          h("div", { class: "field-error", role: "alert", hidden: true, id: "profile-notifications-error" })),
        h("div", { class: "form-actions" }, save));
      const errors = formErrors(form);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        /** @type {Record<string, boolean>} */
        const notifications = {};
        for (const b of boxes) notifications[b.k] = b.box.checked;
        const body = { name: name.value.trim(), language: lang.value, notifications, away_after_minutes: Number(away.value) };
        const ok = await submitting(save, errors, async () => {
          const p = await api.patch("/profile", body);
          store.set("me", { ...store.get("me"), ...p });
          session.save(null, store.get("me"));
        });
        if (ok) {
          toast(t("profile.saved"), "info");
          setLang(body.language);
        }
      });
      return form;
    }

    /** @param {PageContext} ctx */
    function passwordForm(ctx) {
      const current = input({ type: "password", autocomplete: "current-password", testid: "password-current", required: true });
      const next = input({ type: "password", autocomplete: "new-password", testid: "password-new", required: true });
      const again = input({ type: "password", autocomplete: "new-password", testid: "password-confirm", required: true });
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "password-save" }, t("profile.changePassword"));
      const form = h("form", { class: "card stack", "data-testid": "password-form", novalidate: true },
        h("h2", {}, t("profile.password")),
        h("input", { type: "email", hidden: true, autocomplete: "username", value: ctx.me.email }),
        field({ label: t("profile.current"), control: current, name: "current_password", testid: "password-current" }),
        field({ label: t("profile.new"), control: next, name: "new_password", hint: t("profile.newHint"), testid: "password-new" }),
        field({ label: t("profile.confirm"), control: again, name: "confirm", testid: "password-confirm" }),
        h("div", { class: "form-actions" }, save));
      const errors = formErrors(form);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (next.value !== again.value) {
          errors.show(localError("confirm", t("profile.mismatch")));
          return;
        }
        const ok = await submitting(save, errors, async () => {
          await api.post("/profile/password", { current_password: current.value, new_password: next.value });
        });
        if (ok) {
          for (const el of [current, next, again]) el.value = "";
          toast(t("profile.passwordChanged"), "info");
        }
      });
      return form;
    }
  },
};
