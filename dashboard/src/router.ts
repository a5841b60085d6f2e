// A tiny history-API router: "/", "/sessions/:id", "/alerts", "/agents", "/settings".
// The sink serves index.html for unknown paths, so deep links and notification URLs work.

import { useSyncExternalStore } from "react";

export type Route =
  | { name: "sessions" }
  | { name: "session"; id: string }
  | { name: "alerts"; focus?: string }
  | { name: "agents" }
  | { name: "settings" };

/** `pathname` may carry a query: "/?alert=ID" (the URL of an alert's push notification) opens
 * the Alerts view on that alert. */
export function parseRoute(url: string): Route {
  const q = url.indexOf("?");
  const pathname = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  const alert = params.get("alert");
  if (alert && (pathname === "/" || /^\/alerts\/?$/.test(pathname))) return { name: "alerts", focus: alert };
  const m = /^\/sessions\/([^/]+)\/?$/.exec(pathname);
  if (m) {
    try {
      return { name: "session", id: decodeURIComponent(m[1]) };
    } catch {
      return { name: "sessions" };
    }
  }
  if (/^\/alerts\/?$/.test(pathname)) return { name: "alerts" };
  if (/^\/agents\/?$/.test(pathname)) return { name: "agents" };
  if (/^\/settings\/?$/.test(pathname)) return { name: "settings" };
  return { name: "sessions" };
}

export function sessionPath(id: string): string {
  return `/sessions/${encodeURIComponent(id)}`;
}

const listeners = new Set<() => void>();
function notify() {
  for (const fn of Array.from(listeners)) fn();
}
window.addEventListener("popstate", notify);

export function navigate(to: string, replace = false): void {
  const url = new URL(to, location.origin);
  if (url.origin !== location.origin) return;
  const target = url.pathname + url.search + url.hash;
  if (target === location.pathname + location.search + location.hash) return;
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  notify();
  window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const path = useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => location.pathname + location.search,
  );
  return parseRoute(path);
}

/** Left click without modifiers on an in-app link: navigate without a page load. */
export function onLinkClick(e: React.MouseEvent<HTMLAnchorElement>, to: string): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}
