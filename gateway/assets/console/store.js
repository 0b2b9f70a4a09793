// The console's shared state: a small key/value store with subscriptions, instead of shared
// mutable globals. Views read with `get`, write with `set`/`update`, and re-render from
// `subscribe`. Per-view working state (a thread's messages, a form's input) stays in the view.

/**
 * @typedef {import("./types.js").Agent} Agent
 * @typedef {import("./types.js").Profile} Profile
 * @typedef {import("./types.js").Inbox} Inbox
 * @typedef {import("./types.js").Label} Label
 * @typedef {import("./types.js").Route} Route
 * @typedef {import("./types.js").Intent} Intent
 */

/**
 * Everything the store holds.
 * @typedef {Object} State
 * @property {Profile|null} me the signed-in agent (with profile fields once loaded)
 * @property {"en"|"zh-CN"} lang the UI language
 * @property {"connecting"|"live"|"offline"} live the realtime socket's state
 * @property {Map<string, Inbox>} inboxes inboxes by id (for labels)
 * @property {Map<string, Agent>} agents agents by id (for names)
 * @property {Map<string, Label>} labels labels by name (for colours and pickers)
 * @property {Map<string, Intent>} intents intents by id (for their labels)
 * @property {Route} route the current hash route
 * @property {number} unread conversations with unread customer messages
 * @property {number} bell the agent's unread notifications
 * @property {number} mine open conversations assigned to the agent
 */

/** @returns {State} */
function initial() {
  return {
    me: null,
    lang: "en",
    live: "connecting",
    inboxes: new Map(),
    agents: new Map(),
    labels: new Map(),
    intents: new Map(),
    route: { name: "conversations", params: {}, rest: [] },
    unread: 0,
    bell: 0,
    mine: 0,
  };
}

/** @type {State} */
let state = initial();
/** @type {Map<keyof State, Set<(value: any) => void>>} */
const subs = new Map();

export const store = {
  /**
   * @template {keyof State} K
   * @param {K} key
   * @returns {State[K]}
   */
  get(key) { return state[key]; },

  /**
   * Replaces a value and tells its subscribers (even when it is the same object, so a Map
   * changed in place can be announced with `set(key, get(key))`).
   * @template {keyof State} K
   * @param {K} key
   * @param {State[K]} value
   */
  set(key, value) {
    state[key] = value;
    for (const fn of [...(subs.get(key) || [])]) fn(value);
  },

  /**
   * @template {keyof State} K
   * @param {K} key
   * @param {(value: State[K]) => State[K]} fn
   */
  update(key, fn) { store.set(key, fn(state[key])); },

  /**
   * Calls `fn` with each new value of `key`; returns the function that stops it.
   * @template {keyof State} K
   * @param {K} key
   * @param {(value: State[K]) => void} fn
   * @returns {() => void}
   */
  subscribe(key, fn) {
    let set = subs.get(key);
    if (!set) subs.set(key, (set = new Set()));
    set.add(fn);
    return () => { set.delete(fn); };
  },

  /** Forgets everything of the signed-in agent (sign-out); the language stays. */
  reset() {
    const lang = state.lang;
    const route = state.route;
    state = { ...initial(), lang, route };
  },
};

/** @typedef {typeof store} Store */
