// Small fetch helpers. Endpoints that a sink may not have yet (alerts, silences, push, control)
// answer 404/405/501: callers get an ApiError with `missing === true` and render a note instead.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server explained itself ({"error": …}): the route exists, the request was refused. */
    readonly explained = false,
  ) {
    super(message);
  }
  /** The endpoint does not exist on this sink (yet): a bare 404/405/501 without an error body. */
  get missing(): boolean {
    return !this.explained && (this.status === 404 || this.status === 405 || this.status === 501);
  }
}

const CONTROL_TOKEN_KEY = "observatory.controlToken";

export function controlToken(): string {
  try {
    return localStorage.getItem(CONTROL_TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

export function setControlToken(token: string): void {
  try {
    if (token) localStorage.setItem(CONTROL_TOKEN_KEY, token);
    else localStorage.removeItem(CONTROL_TOKEN_KEY);
  } catch {
    /* private mode: keep it for this page only */
  }
}

async function apiError(r: Response): Promise<ApiError> {
  try {
    const text = await r.text();
    try {
      const j = JSON.parse(text) as { error?: unknown; message?: unknown };
      if (typeof j.error === "string") return new ApiError(r.status, j.error, true);
      if (typeof j.message === "string") return new ApiError(r.status, j.message, true);
    } catch {
      /* not JSON */
    }
    return new ApiError(r.status, text.slice(0, 200) || r.statusText || `HTTP ${r.status}`);
  } catch {
    return new ApiError(r.status, `HTTP ${r.status}`);
  }
}

export async function request<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: "application/json", ...(headers ?? {}) }, cache: "no-store" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const r = await fetch(path, init);
  if (!r.ok) throw await apiError(r);
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
