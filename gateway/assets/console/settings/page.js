// The interface of a settings page. Each page lives in `settings/<id>/index.js`, exports
// `page` and is listed in `settings/registry.js`; its strings live in its own `strings.js`.

/**
 * What a page's `render` gets.
 * @typedef {Object} PageContext
 * @property {import("../api.js").Api} api the REST client
 * @property {typeof import("../i18n.js").t} t translate
 * @property {import("../store.js").Store} store shared state
 * @property {import("../types.js").Profile} me the signed-in agent
 * @property {(hash: string, opts?: {replace?: boolean}) => void} navigate go to a route
 * @property {(...parts: (string|number)[]) => string} href build a route hash
 * @property {string[]} rest the path after the page id (`#/settings/inboxes/7` → `["7"]`)
 * @property {unknown} draft when the page is rendered again in place (language change), what its
 *   last `keep` function returned: unsaved state the page rebuilds from instead of the server's
 * @property {(fn: () => unknown) => void} keep registers how to read the page's unsaved state
 *   (rows added, rules edited) before it is rendered again; plain field values are carried over
 *   by the console itself (forms/draft.js)
 */

/**
 * A settings page. `render` fills `container` and may return (or resolve to) a function that
 * cleans up when the page is left (subscriptions, timers). It is called again when the
 * language changes.
 * @typedef {Object} Page
 * @property {string} id the route segment: `#/settings/<id>`
 * @property {string} titleKey the i18n key of the title (navigation and heading)
 * @property {import("../vocab.js").Role} minRole the least role that sees the page
 * @property {(container: HTMLElement, ctx: PageContext) => (void | (() => void) | Promise<void | (() => void)>)} render
 */

export {};
