// The agent realtime socket: /ws/agent?token=..., JSON frames, reconnect with backoff + jitter.

export class Realtime {
  /**
   * @param {() => string|null} token current bearer token
   * @param {{onFrame: (f: object) => void, onState: (s: "connecting"|"live"|"offline") => void,
   *          onReconnect: () => void, onDrop: () => void}} hooks
   */
  constructor(token, hooks) {
    this.token = token;
    this.hooks = hooks;
    this.ws = null;
    this.attempts = 0;
    this.stopped = true;
    this.everOpened = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.ping);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
  }

  /** @param {object} frame */
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  connect() {
    const token = this.token();
    if (this.stopped || !token) return;
    this.hooks.onState("connecting");
    const proto = location.protocol === "https:" ? "wss" : "ws";
    let ws;
    try {
      ws = new WebSocket(`${proto}://${location.host}/ws/agent?token=${encodeURIComponent(token)}`);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    let last = Date.now();
    ws.onopen = () => {
      const reconnect = this.everOpened;
      this.everOpened = true;
      this.attempts = 0;
      this.hooks.onState("live");
      clearInterval(this.ping);
      // Keep proxies from closing an idle socket; replace one that went silent.
      this.ping = setInterval(() => {
        if (Date.now() - last > 60000) ws.close();
        else this.send({ type: "ping" });
      }, 25000);
      if (reconnect) this.hooks.onReconnect();
    };
    ws.onmessage = (ev) => {
      last = Date.now();
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      if (frame && typeof frame.type === "string") this.hooks.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.ping);
      if (this.stopped) return;
      this.hooks.onState("offline");
      this.hooks.onDrop();
      this.retry();
    };
  }

  retry() {
    const base = Math.min(30000, 1000 * 2 ** this.attempts++);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }
}

// Events relayed to views other than the conversations view (the live dashboard): the socket
// is opened once, by the conversations view, which hands every event on here. `resync` is
// published after a reconnect, when events may have been missed.

/** @typedef {(type: string, data: any) => void} EventListener */

/** @type {Set<EventListener>} */
const listeners = new Set();

/**
 * Calls `fn` with each event from the agent socket; returns the function that stops it.
 * @param {EventListener} fn
 * @returns {() => void}
 */
export function onAgentEvent(fn) {
  listeners.add(fn);
  return () => { listeners.delete(fn); };
}

/**
 * Hands an event to every listener.
 * @param {string} type
 * @param {any} data
 */
export function publishAgentEvent(type, data) {
  for (const fn of [...listeners]) {
    try { fn(type, data); } catch (e) { console.error(e); }
  }
}
