// Agent Observatory service worker: caches the app shell, shows pushed notifications, and
// opens or focuses the right page when one is clicked. build.sh fills in VERSION and SHELL.
"use strict";

const VERSION = "1712fdc017b5";
const CACHE = "observatory-shell-" + VERSION;
const SHELL = ["/", "/index.html", "/assets/main-6b5175f162.js", "/assets/main-e1994d48cf.css", "/manifest.webmanifest", "/icons/apple-touch-icon.png", "/icons/icon-192.png", "/icons/icon-512.png", "/icons/icon-maskable-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("observatory-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function isShellRequest(url) {
  return url.pathname.startsWith("/assets/") || url.pathname.startsWith("/icons/") || url.pathname === "/manifest.webmanifest";
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // Live data is never served from the cache.
  if (url.pathname.startsWith("/api/") || url.pathname === "/ws" || url.pathname === "/sw.js" || url.pathname.startsWith("/control/")) return;
  if (req.mode === "navigate") {
    // Network first for pages, so a new build shows up; the cached shell when the sink is away.
    // A deep link the server does not know (/sessions/ID on a sink without an index.html
    // fallback) also gets the shell: the app routes on the client.
    const shell = () => caches.match("/index.html", { cacheName: CACHE }).then((r) => r || caches.match("/"));
    event.respondWith(
      fetch(req)
        .then((res) => (res.status === 404 ? shell().then((r) => r || res) : res))
        .catch(() => shell().then((r) => r || Response.error()))
    );
    return;
  }
  if (isShellRequest(url)) {
    // Hashed assets never change: cache first.
    event.respondWith(
      caches.match(req, { ignoreSearch: false }).then((hit) => hit || fetch(req).then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      }))
    );
  }
});

// Payload (JSON): the sink's {"title","body","tag","url","alertId","sessionId","severity","kind"};
// also {"data":{"url"}}, and plain text (shown as the body).
function parsePush(event) {
  let p = {};
  if (event.data) {
    try {
      p = event.data.json();
    } catch (e) {
      p = { body: event.data.text() };
    }
  }
  if (!p || typeof p !== "object") p = { body: String(p) };
  const data = (p.data && typeof p.data === "object") ? Object.assign({}, p.data) : {};
  if (!data.url && typeof p.url === "string") data.url = p.url;
  const sid = [data.sessionId, data.sessionID, p.sessionId, p.sessionID].find((v) => typeof v === "string" && v);
  if (!data.url && sid) data.url = "/sessions/" + encodeURIComponent(sid);
  for (const k of ["alertId", "sessionId", "severity", "kind"]) if (data[k] === undefined && p[k] !== undefined) data[k] = p[k];
  if (!data.url) data.url = "/";
  return {
    title: typeof p.title === "string" && p.title ? p.title : "Agent Observatory",
    options: {
      body: typeof p.body === "string" ? p.body : "",
      tag: typeof p.tag === "string" && p.tag ? p.tag : undefined,
      renotify: typeof p.tag === "string" && p.tag ? true : undefined,
      data: data,
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      timestamp: typeof p.timestamp === "number" ? p.timestamp : Date.now(),
      requireInteraction: p.requireInteraction === true,
    },
  };
}

self.addEventListener("push", (event) => {
  const n = parsePush(event);
  event.waitUntil((async () => {
    await self.registration.showNotification(n.title, n.options);
    const wins = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const c of wins) c.postMessage({ type: "push", title: n.title, body: n.options.body, tag: n.options.tag, url: n.options.data.url });
  })());
});

// Opens the page a notification points at: focuses a window already showing it, else asks an open
// window to navigate there (the app routes on the client), else opens a new window.
async function openTarget(raw) {
  const target = new URL(raw || "/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  const path = target.pathname + target.search + target.hash;
  const wins = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = wins.find((c) => {
    const u = new URL(c.url);
    return u.pathname === target.pathname && u.search === target.search;
  });
  const win = same || wins[0];
  if (win) {
    if (!same) win.postMessage({ type: "navigate", url: path });
    try {
      await win.focus();
    } catch (e) {
      /* focusing needs the click's user activation */
    }
    return;
  }
  await self.clients.openWindow(target.href);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const done = openTarget(event.notification.data && event.notification.data.url);
  try {
    event.waitUntil(done);
  } catch (e) {
    /* an untrusted (test-dispatched) event cannot extend its lifetime */
  }
});
