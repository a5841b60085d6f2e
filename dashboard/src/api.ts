// Small fetch helpers. Endpoints that a sink may not have yet (alerts, silences, push, control)
// answer 404/405/501: callers get an ApiError with `missing === true` and render a note instead.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server explained itself ({"error": …}): the route exists, the request was refused. */
    readonly explained = false,
    /** Seconds from a 429's (or 503's) Retry-After header, when it had one. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
  /** The endpoint does not exist on this sink (yet): a bare 404/405/501 without an error body. */
  get missing(): boolean {
    return !this.explained && (this.status === 404 || this.status === 405 || this.status === 501);
  }
}

const CONTROL_TOKEN_KEY = "observatory.controlToken";
/** The control token when the user chose not to keep it on this device: this page only. */
let memoryToken = "";

/** The control token: this page's copy, else the one remembered on this device, else "". */
export function controlToken(): string {
  if (memoryToken) return memoryToken;
  try {
    return localStorage.getItem(CONTROL_TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

/** Whether the control token is kept in localStorage (rather than in memory only). */
export function controlTokenRemembered(): boolean {
  try {
    return !!localStorage.getItem(CONTROL_TOKEN_KEY);
  } catch {
    return false;
  }
}

/** Keep the control token: in localStorage when `remember`, else for this page only. "" forgets it. */
export function setControlToken(token: string, remember = true): void {
  memoryToken = remember ? "" : token;
  try {
    if (token && remember) localStorage.setItem(CONTROL_TOKEN_KEY, token);
    else localStorage.removeItem(CONTROL_TOKEN_KEY);
  } catch {
    /* private mode: keep it for this page only */
    memoryToken = token;
  }
}

export function forgetControlToken(): void {
  setControlToken("", false);
}

/** Called on a 401 from the read API (/api/*, not /api/login, not /control/*): the device must log in. */
let onUnauthorized: ((e: ApiError) => void) | null = null;
export function setUnauthorizedHandler(fn: ((e: ApiError) => void) | null): void {
  onUnauthorized = fn;
}

function retryAfter(r: Response): number | null {
  const v = r.headers.get("Retry-After");
  if (!v) return null;
  const n = Number(v);
  if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

async function apiError(r: Response): Promise<ApiError> {
  const wait = retryAfter(r);
  try {
    const text = await r.text();
    try {
      const j = JSON.parse(text) as { error?: unknown; message?: unknown };
      if (typeof j.error === "string") return new ApiError(r.status, j.error, true, wait);
      if (typeof j.message === "string") return new ApiError(r.status, j.message, true, wait);
    } catch {
      /* not JSON */
    }
    return new ApiError(r.status, text.slice(0, 200) || r.statusText || `HTTP ${r.status}`, false, wait);
  } catch {
    return new ApiError(r.status, `HTTP ${r.status}`, false, wait);
  }
}

/** A 401 that means "this browser is not logged in" (not a wrong control token, not a failed login). */
function needsLogin(path: string, status: number): boolean {
  if (status !== 401) return false;
  const p = path.split("?")[0];
  return (p.startsWith("/api/") || p === "/metrics") && p !== "/api/login" && p !== "/api/auth";
}

export async function request<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: "application/json", ...(headers ?? {}) }, cache: "no-store" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const r = await fetch(path, init);
  if (!r.ok) {
    const e = await apiError(r);
    if (needsLogin(path, r.status) && onUnauthorized) onUnauthorized(e);
    throw e;
  }
  if (r.status === 204) return undefined as T;
  const text = await r.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const getJSON = <T>(path: string) => request<T>("GET", path);
export const postJSON = <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {});

/** POST with the control token (Authorization: Bearer), for /control/*. */
export function postControl<T>(path: string, body: unknown): Promise<T> {
  const token = controlToken();
  return request<T>("POST", path, body, token ? { Authorization: `Bearer ${token}` } : undefined);
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.missing ? "not available on this sink yet" : e.explained ? e.message : `${e.status}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
