// REST client for /api/v1: bearer token from localStorage, `{code, detail, field?}` errors,
// 401 → back to the sign-in screen.

const TOKEN_KEY = "kefu.console.token";
const AGENT_KEY = "kefu.console.agent";

let onUnauthorized = () => {};

/**
 * Error thrown for a non-2xx answer (status 0: the server could not be reached). `detail` is
 * the server's sentence, `field` the JSON path of the field it concerns (validation errors),
 * `retryAfter` the seconds of a 429's `Retry-After`.
 */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string|null} code
   * @param {string|null} detail
   * @param {string|null} [field]
   * @param {number|null} [retryAfter]
   * @param {any} [body] the whole error body, for errors that carry more (an import's rows)
   */
  constructor(status, code, detail, field = null, retryAfter = null, body = null) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = detail || code || `HTTP ${status}`;
    this.field = field;
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  get agent() {
    try { return JSON.parse(localStorage.getItem(AGENT_KEY) || "null"); } catch { return null; }
  },
  /**
   * @param {string|null} token
   * @param {object|null} agent
   */
  save(token, agent) {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    if (agent) localStorage.setItem(AGENT_KEY, JSON.stringify(agent));
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(AGENT_KEY);
  },
};

/** Called (once per burst) when the server answers 401 to an authenticated call. */
export function setUnauthorizedHandler(/** @type {() => void} */ fn) { onUnauthorized = fn; }

/**
 * One API call; resolves to the parsed JSON body (null for an empty one).
 * @param {string} method
 * @param {string} path under /api/v1, e.g. `/agents`
 * @param {any} [body] JSON-encoded unless it is FormData or a Blob (a file, sent as it is)
 * @returns {Promise<any>}
 */
export async function request(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const form = body instanceof FormData || body instanceof Blob;
  if (body instanceof Blob) headers["Content-Type"] = body.type || "application/octet-stream";
  else if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null, null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    if (res.status === 401 && token && !path.startsWith("/auth/")) {
      session.clear();
      onUnauthorized();
    }
    const retry = Number(res.headers.get("Retry-After"));
    throw new ApiError(res.status, data && data.code, data && data.detail, data && data.field,
      Number.isFinite(retry) && retry > 0 ? retry : null, data);
  }
  return data;
}

export const api = {
  get: (/** @type {string} */ path) => request("GET", path),
  post: (/** @type {string} */ path, /** @type {any} */ body) => request("POST", path, body === undefined ? {} : body),
  put: (/** @type {string} */ path, /** @type {any} */ body) => request("PUT", path, body),
  patch: (/** @type {string} */ path, /** @type {any} */ body) => request("PATCH", path, body),
  del: (/** @type {string} */ path) => request("DELETE", path),

  /** Uploads one file for a reply; resolves to `{id, name, mime, size, url}`. */
  upload(/** @type {File} */ file) {
    const form = new FormData();
    form.append("file", file, file.name);
    return request("POST", "/attachments", form);
  },

  /**
   * A file the API answers with (an export), as a Blob.
   * @param {string} path
   * @returns {Promise<Blob>}
   */
  async download(path) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (session.token) headers.Authorization = `Bearer ${session.token}`;
    let res;
    try {
      res = await fetch(`/api/v1${path}`, { headers });
    } catch {
      throw new ApiError(0, null, null);
    }
    if (!res.ok) {
      let data = null;
      try { data = await res.json(); } catch { data = null; }
      throw new ApiError(res.status, data && data.code, data && data.detail, data && data.field, null, data);
    }
    return res.blob();
  },

  /**
   * @param {string} email
   * @param {string} password
   */
  async login(email, password) {
    const data = await request("POST", "/auth/login", { email, password });
    session.save(data.token, data.agent);
    return data;
  },

  /** Ends the session on the server too; the local copy is cleared whatever happens. */
  async logout() {
    try {
      if (session.token) await request("POST", "/auth/logout");
    } catch { /* already expired or unreachable: signing out locally is what matters */ }
    session.clear();
  },
};

/** @typedef {typeof api} Api */

/**
 * Query string from an object, skipping empty values.
 * @param {Record<string, any>} params
 */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/**
 * Lists come as `{items}`; tolerate a bare array too.
 * @param {any} data
 * @returns {any[]}
 */
export function items(data) {
  if (Array.isArray(data)) return data;
  return (data && data.items) || [];
}
