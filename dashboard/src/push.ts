// "Enable notifications": permission → VAPID key → pushManager.subscribe → POST the subscription.
// iPhone/iPad Safari only allows Web Push for an app added to the Home Screen (iOS 16.4+).

import { ApiError, postJSON, request } from "./api";

export interface PushSupport {
  /** Service worker, PushManager and Notification all exist here. */
  supported: boolean;
  ios: boolean;
  standalone: boolean;
  /** iOS in a browser tab: must be added to the Home Screen first. */
  needsHomeScreen: boolean;
  permission: NotificationPermission | "unsupported";
  secure: boolean;
}

export function isIOS(): boolean {
  const ua = navigator.userAgent;
  return /iPad|iPhone|iPod/.test(ua) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
}

export function isStandalone(): boolean {
  const nav = navigator as Navigator & { standalone?: boolean };
  return (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches) || nav.standalone === true;
}

export function pushSupport(): PushSupport {
  const ios = isIOS();
  const standalone = isStandalone();
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  return {
    supported,
    ios,
    standalone,
    needsHomeScreen: ios && !standalone,
    permission: "Notification" in window ? Notification.permission : "unsupported",
    secure: window.isSecureContext,
  };
}

export function defaultLabel(): string {
  const ua = navigator.userAgent;
  const device = /iPhone/.test(ua) ? "iPhone" : /iPad/.test(ua) ? "iPad" : /Android/.test(ua) ? "Android" : /Mac OS X/.test(ua) ? "Mac" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "device";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "browser";
  return `${browser} on ${device}`;
}

export function base64UrlToBytes(s: string): Uint8Array {
  const pad = "=".repeat((4 - (s.length % 4)) % 4);
  const b64 = (s + pad).replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function sameBytes(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** The sink's VAPID public key: JSON {publicKey} (or {key}/{vapidPublicKey}) or plain text. */
export async function fetchVapidKey(): Promise<string> {
  const r = await fetch("/api/push/vapid-public-key", { cache: "no-store", headers: { Accept: "application/json, text/plain" } });
  if (!r.ok) throw new ApiError(r.status, r.status === 404 ? "push is not available on this sink yet" : `HTTP ${r.status}`);
  const text = (await r.text()).trim();
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    for (const k of ["publicKey", "key", "vapidPublicKey", "applicationServerKey"]) if (typeof j[k] === "string") return j[k] as string;
    if (typeof j === "string") return j;
  } catch {
    /* plain text */
  }
  if (/^[A-Za-z0-9_-]{40,}$/.test(text)) return text;
  throw new Error("the sink's VAPID key is not in a known format");
}

export async function currentSubscription(): Promise<PushSubscription | null> {
  if (!("serviceWorker" in navigator)) return null;
  const reg = await withTimeout(navigator.serviceWorker.ready, 10000, "service worker");
  return reg.pushManager ? reg.pushManager.getSubscription() : null;
}

export async function enableNotifications(label: string, onStep: (s: string) => void): Promise<PushSubscription> {
  const sup = pushSupport();
  if (sup.needsHomeScreen) throw new Error("On iPhone and iPad, add the Observatory to your Home Screen first, then open it from there.");
  if (!sup.supported) throw new Error("This browser does not support Web Push.");
  onStep("asking for permission…");
  const perm = await Notification.requestPermission();
  if (perm !== "granted") throw new Error(perm === "denied" ? "Notifications are blocked for this site. Allow them in the browser's site settings." : "Permission was not granted.");
  onStep("fetching the sink's push key…");
  const key = base64UrlToBytes(await fetchVapidKey());
  const reg = await withTimeout(navigator.serviceWorker.ready, 10000, "service worker");
  onStep("subscribing with the browser's push service…");
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameBytes(sub.options.applicationServerKey, key)) {
    await sub.unsubscribe();
    sub = null;
  }
  if (!sub) sub = await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }), 30000, "push subscription");
  const json = sub.toJSON();
  const body = { endpoint: sub.endpoint, keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" }, label };
  onStep("registering this device with the sink…");
  await postJSON("/api/push/subscriptions", body);
  return sub;
}

export async function disableNotifications(): Promise<void> {
  const sub = await currentSubscription();
  if (!sub) return;
  const endpoint = sub.endpoint;
  await sub.unsubscribe();
  try {
    await request("DELETE", "/api/push/subscriptions", { endpoint });
  } catch (e) {
    if (!(e instanceof ApiError && e.missing)) throw e;
  }
}

/** Asks the sink to push a test notification to every subscribed device; returns how many were queued. */
export async function sendTestNotification(): Promise<number | null> {
  const r = await postJSON<{ queued?: unknown } | undefined>("/api/push/test", {});
  return r && typeof r.queued === "number" ? r.queued : null;
}
