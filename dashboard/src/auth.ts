// Logging in from another machine (a phone through a tunnel): GET /api/auth says whether this
// browser must log in; POST /api/login with a device token sets an HttpOnly cookie that fetch and
// the WebSocket then carry; POST /api/logout clears it. Any 401 from the read API brings the
// login screen back (the token was revoked, or the cookie expired).

import { ApiError, getJSON, request, setUnauthorizedHandler } from "./api";
import { liveLink, pollAlerts } from "./live";
import { store } from "./store";
import type { AuthInfo } from "./types";

/** GET /api/auth into the store; null when the sink does not have it (older sink) or is unreachable. */
export async function refreshAuth(): Promise<AuthInfo | null> {
  try {
    const a = await getJSON<AuthInfo>("/api/auth");
    if (!a || typeof a !== "object" || typeof a.loginRequired !== "boolean") return null;
    store.auth = a;
    store.changed();
    return a;
  } catch {
    return null;
  }
}

function requireLogin(reason: string | null): void {
  if (!store.loginRequired) {
    store.loginRequired = true;
    store.loginReason = reason;
    store.changed();
  }
  liveLink.pause();
}

setUnauthorizedHandler((e: ApiError) => {
  if (store.auth) store.auth = { ...store.auth, authenticated: false, loginRequired: true, token: null };
  requireLogin(e.message);
});

function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(fallback), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(fallback);
      },
    );
  });
}

/** On start: ask whether a login is needed before opening the live feed. A sink without
 * /api/auth, or one that does not answer quickly, gets the live feed at once (it shows why). */
export async function bootstrap(): Promise<void> {
  const a = await withTimeout(refreshAuth(), 4000, null);
  store.booting = false;
  store.changed();
  if (a && a.loginRequired) requireLogin(null);
  else liveLink.start();
}

/** POST /api/login. Throws ApiError (401 bad token, 429 with retryAfter) or Error. */
export async function login(token: string): Promise<void> {
  await request<void>("POST", "/api/login", { token });
  const a = await refreshAuth();
  if (a && a.loginRequired) {
    throw new Error("The sink accepted the token, but this browser still is not logged in. Are cookies blocked for this site?");
  }
  store.loginRequired = false;
  store.loginReason = null;
  store.changed();
  liveLink.resume();
  void pollAlerts();
}

/** POST /api/logout, then ask again: a remote browser is back at the login screen. */
export async function logout(): Promise<void> {
  await request<void>("POST", "/api/logout", {});
  const a = await refreshAuth();
  if (a && a.loginRequired) requireLogin(null);
}
