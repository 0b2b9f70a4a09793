// REST client for /api/v1: bearer token from localStorage, `{code, detail}` errors, 401 → logout.

const TOKEN_KEY = "kefu.console.token";
const AGENT_KEY = "kefu.console.agent";

let onUnauthorized = () => {};

/** Error thrown for a non-2xx answer; `detail` is the server's human sentence. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = detail || code || `HTTP ${status}`;
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  get agent() {
    try { return JSON.parse(localStorage.getItem(AGENT_KEY) || "null"); } catch { return null; }
  },
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
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "network_error", null);
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
    throw new ApiError(res.status, data && data.code, data && data.detail);
  }
  return data;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body === undefined ? {} : body),
  put: (path, body) => request("PUT", path, body),

  /** Uploads one file for a reply; resolves to `{id, name, mime, size, url}`. */
  upload(file) {
    const form = new FormData();
    form.append("file", file, file.name);
    return request("POST", "/attachments", form);
  },

  async login(email, password) {
    const data = await request("POST", "/auth/login", { email, password });
    session.save(data.token, data.agent);
    return data;
  },
};

/** Query string from an object, skipping empty values. */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Lists come as `{items}`; tolerate a bare array too. */
export function items(data) {
  if (Array.isArray(data)) return data;
  return (data && data.items) || [];
}
