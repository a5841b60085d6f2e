// The live link to the sink: a WebSocket on /ws (snapshot, then ordered messages), reconnecting
// with exponential backoff and jitter and resuming with ?since=lastSeq; while the socket is not
// up, GET /api/sessions is polled every 2 s so the overview stays current.

import { ApiError, getJSON } from "./api";
import { store } from "./store";
import type { Alert, LiveMessage, Session } from "./types";

const POLL_MS = 2000;
const ALERT_POLL_MS = 10000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30000;
/** A page hidden at least this long gets a fresh socket when it becomes visible (phone wake). */
const WAKE_AFTER_MS = 5000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  // "Equal jitter": half fixed, half random, so retries spread out but never hammer.
  return Math.round(cap / 2 + random() * (cap / 2));
}

export function wsURL(since: number): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws${since > 0 ? `?since=${since}` : ""}`;
}

class LiveLink {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private lastAlertPoll = 0;
  private started = false;
  private live = false;
  /** After a snapshot sent for ?since=S: the snapshot's seq, until the replay reaches it. */
  private replayUntil = 0;
  private hiddenAt: number | null = null;
  private polling = false;
  /** Logged out: no socket, no polling, until resume(). */
  private paused = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    this.paused = false;
    document.addEventListener("visibilitychange", this.onVisibility);
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("pageshow", this.onPageShow);
    this.connect();
    // A moment for the socket first, so a sink with /ws does not flash "polling".
    this.schedulePoll(400);
  }

  /** Stop the socket and the polling: the sink wants a login first (a 401). */
  pause(detail = "login required"): void {
    this.paused = true;
    this.closeSocket();
    this.clearRetry();
    this.stopPolling();
    store.setLink({ state: "offline", detail });
  }

  /** Start, or start again after pause(): logged in. */
  resume(): void {
    if (!this.started) {
      this.start();
      return;
    }
    this.paused = false;
    this.reconnectNow("logged in");
    this.schedulePoll(400);
  }

  /** Drop the current socket (if any) and connect again now. */
  reconnectNow(reason: string): void {
    if (this.paused) return;
    this.attempt = 0;
    this.closeSocket();
    this.clearRetry();
    store.setLink({ state: this.polling ? "polling" : "connecting", detail: `reconnecting (${reason})` });
    this.connect();
  }

  private onVisibility = (): void => {
    if (document.visibilityState === "hidden") {
      this.hiddenAt = Date.now();
      return;
    }
    const hiddenFor = this.hiddenAt === null ? 0 : Date.now() - this.hiddenAt;
    this.hiddenAt = null;
    // A socket that slept with the phone may look open but be dead: start a fresh one that
    // resumes from lastSeq. A socket that is not up retries at once instead of waiting out its backoff.
    if (!this.live || hiddenFor >= WAKE_AFTER_MS) this.reconnectNow("page visible");
    this.schedulePoll(400);
  };

  private onOnline = (): void => {
    this.reconnectNow("network back");
    this.schedulePoll(400);
  };

  private onOffline = (): void => {
    store.setLink({ state: "offline", detail: "no network" });
  };

  private onPageShow = (e: PageTransitionEvent): void => {
    if (e.persisted) this.reconnectNow("page restored");
  };

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private closeSocket(): void {
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close();
      } catch {
        /* already closed */
      }
    }
  }

  private connect(): void {
    if (typeof WebSocket === "undefined" || this.paused) return;
    this.clearRetry();
    const since = store.lastSeq;
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsURL(since));
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.replayUntil = 0;
    if (!this.live && !this.polling) store.setLink({ state: "connecting", detail: "opening WebSocket" });
    ws.onmessage = (e) => this.onMessage(ws, since, e);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasLive = this.live;
      this.live = false;
      if (wasLive) this.attempt = 0;
      this.scheduleRetry();
      this.schedulePoll(0);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private scheduleRetry(delay?: number): void {
    this.clearRetry();
    if (this.paused) return;
    const d = delay ?? backoffDelay(this.attempt++);
    const secs = Math.max(1, Math.round(d / 1000));
    if (!this.polling) {
      const offline = navigator.onLine === false || store.link.state === "offline";
      store.setLink({ state: offline ? "offline" : "connecting", detail: `${offline ? store.link.detail : "connecting"}; retry in ${secs}s` });
    }
    else store.setLink({ detail: `polling; live feed retry in ${secs}s` });
    this.retryTimer = setTimeout(() => this.connect(), d);
  }

  private onMessage(ws: WebSocket, since: number, e: MessageEvent): void {
    if (this.ws !== ws || typeof e.data !== "string") return;
    let msg: LiveMessage;
    try {
      msg = JSON.parse(e.data) as LiveMessage;
    } catch {
      return;
    }
    store.setLink({ lastContact: Date.now() });
    if (msg.type === "batch") {
      if (!Array.isArray(msg.messages)) return;
      for (const inner of msg.messages) {
        if (this.ws !== ws) return; // a resync inside the batch closed this socket
        if (inner && typeof inner === "object" && inner.type !== "batch") this.handle(ws, since, inner);
      }
      return;
    }
    this.handle(ws, since, msg);
  }

  private handle(ws: WebSocket, since: number, msg: LiveMessage): void {
    switch (msg.type) {
      case "snapshot": {
        if (typeof msg.seq !== "number") return;
        if (msg.seq < store.lastSeq) {
          // The sink's store is not the one we resumed from (new data directory): start over.
          store.lastSeq = 0;
          store.clearEvents();
        }
        store.replaceSessions(Array.isArray(msg.sessions) ? msg.sessions : []);
        store.replaceAlerts(Array.isArray(msg.alerts) ? msg.alerts : []);
        if (since > 0 && store.lastSeq > 0) {
          // Events in (since, snapshot.seq] are replayed next; resume from the last one received.
          this.replayUntil = msg.seq;
          if (msg.replayTruncated) store.gapEpoch++;
        } else {
          store.lastSeq = Math.max(store.lastSeq, msg.seq);
        }
        this.live = true;
        this.attempt = 0;
        this.stopPolling();
        store.setLink({ state: "live", detail: "live (WebSocket)", wsSeen: true });
        break;
      }
      case "event": {
        const ev = msg.event;
        if (!ev || typeof ev.sessionId !== "string") return;
        if (typeof ev.seq !== "number") ev.seq = msg.seq;
        store.addEvents(ev.sessionId, [ev]);
        this.advance(msg.seq);
        break;
      }
      case "session": {
        store.putSession(msg.session);
        if (this.replayUntil === 0 || msg.seq >= this.replayUntil) this.advance(msg.seq);
        break;
      }
      case "alert":
        store.putAlert(msg.alert);
        break;
      case "resync":
        // The server closes after this; reconnect at once, resuming from lastSeq.
        this.closeSocket();
        this.scheduleRetry(Math.round(Math.random() * 250));
        break;
      default:
        break; // unknown message types are ignored
    }
  }

  private advance(seq: number): void {
    if (typeof seq !== "number" || !Number.isFinite(seq)) return;
    if (seq > store.lastSeq) store.lastSeq = seq;
    if (this.replayUntil !== 0 && seq >= this.replayUntil) this.replayUntil = 0;
  }

  // -- polling fallback ------------------------------------------------------------------------

  private stopPolling(): void {
    this.polling = false;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private schedulePoll(delay: number): void {
    if (this.live || this.paused) return;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delay);
  }

  private async poll(): Promise<void> {
    this.pollTimer = null;
    if (this.live || this.paused) return;
    try {
      const data = await getJSON<{ sessions: Session[] }>("/api/sessions");
      if (this.live || this.paused) return;
      store.replaceSessions(Array.isArray(data.sessions) ? data.sessions : []);
      this.polling = true;
      store.setLink({ state: "polling", detail: "polling every 2 s", lastContact: Date.now() });
      // A sink without the alerts API is asked again only once a minute.
      if (Date.now() - this.lastAlertPoll >= (store.alertsApi === false ? 60000 : ALERT_POLL_MS)) {
        this.lastAlertPoll = Date.now();
        void pollAlerts();
      }
    } catch {
      this.polling = false;
      if (this.paused) return; // a 401: the login screen is up
      if (!this.live) store.setLink({ state: "offline", detail: "sink unreachable" });
    }
    if (!this.live && document.visibilityState !== "hidden") this.schedulePoll(POLL_MS);
    else if (!this.live) this.schedulePoll(POLL_MS * 5);
  }

  get isLive(): boolean {
    return this.live;
  }
}

/** GET /api/alerts into the store; remembers whether the endpoint exists. */
export async function pollAlerts(): Promise<void> {
  try {
    const data = await getJSON<{ alerts: Alert[] }>("/api/alerts");
    store.alertsApi = true;
    store.mergeAlerts(Array.isArray(data.alerts) ? data.alerts : []);
  } catch (e) {
    if (e instanceof ApiError && e.missing) {
      store.alertsApi = false;
      store.changed();
    }
  }
}

export const liveLink = new LiveLink();
