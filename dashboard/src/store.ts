// The dashboard's state: sessions, alerts, recent events per session, and the link status.
// Mutable structures behind a version number: the live feed can deliver hundreds of messages a
// second, so listeners are told at most once per animation frame (or 100 ms when hidden).

import { useSyncExternalStore } from "react";
import type { AgentEvent, AgentRoster, Alert, AuthInfo, LinkState, Session } from "./types";

/** Events kept per session that nobody is looking at, and per session that is open. */
const KEEP_BACKGROUND = 200;
export const KEEP_OPEN = 5000;

export interface LinkInfo {
  state: LinkState;
  /** Human detail: "WebSocket", "polling every 2 s", "retrying in 4 s". */
  detail: string;
  /** Wall time of the last message or successful poll. */
  lastContact: number | null;
  /** Set when a WebSocket has worked at least once (so the sink has /ws). */
  wsSeen: boolean;
}

class Store {
  version = 0;
  sessions = new Map<string, Session>();
  alerts = new Map<string, Alert>();
  /** Events per session, ascending seq, no duplicates. */
  events = new Map<string, AgentEvent[]>();
  /** Sessions whose detail view is open (keep more of their events). */
  openSessions = new Set<string>();
  /** Max seq of the live feed the client can resume from (see docs/dashboard.md). */
  lastSeq = 0;
  /** Bumped when the server says a replay was cut short: views refetch from REST. */
  gapEpoch = 0;
  /** Whether GET /api/alerts exists (null: not known yet). */
  alertsApi: boolean | null = null;
  /** A new service worker took over: a newer build of the dashboard is available. */
  updateAvailable = false;
  link: LinkInfo = { state: "connecting", detail: "starting", lastContact: null, wsSeen: false };
  /** Until GET /api/auth has answered (or timed out) on start. */
  booting = true;
  /** GET /api/auth (null: not asked yet, or a sink without it). */
  auth: AuthInfo | null = null;
  /** The sink wants a device token before it shows anything: the login screen is up. */
  loginRequired = false;
  /** Why the login screen came up after the start (a 401's error text), if it did. */
  loginReason: string | null = null;
  /** GET /api/agents: null until fetched; "missing" on a sink without the endpoint. */
  roster: AgentRoster | "missing" | null = null;
  /** Wall time of the last roster fetch (answer or error). */
  rosterAt = 0;

  private listeners = new Set<() => void>();
  private scheduled = false;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getVersion = (): number => this.version;

  /** Mark the state changed; listeners run once per frame. */
  changed(): void {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      for (const fn of Array.from(this.listeners)) fn();
    };
    if (typeof document !== "undefined" && document.visibilityState === "visible" && typeof requestAnimationFrame === "function") {
      requestAnimationFrame(run);
    } else {
      setTimeout(run, 100);
    }
  }

  setLink(patch: Partial<LinkInfo>): void {
    const next = { ...this.link, ...patch };
    if (next.state === this.link.state && next.detail === this.link.detail && next.lastContact === this.link.lastContact && next.wsSeen === this.link.wsSeen) return;
    this.link = next;
    this.changed();
  }

  replaceSessions(list: Session[]): void {
    const m = new Map<string, Session>();
    for (const s of list) if (s && typeof s.id === "string") m.set(s.id, s);
    this.sessions = m;
    this.changed();
  }

  putSession(s: Session): void {
    if (!s || typeof s.id !== "string") return;
    this.sessions.set(s.id, s);
    this.changed();
  }

  replaceAlerts(list: Alert[]): void {
    const m = new Map<string, Alert>();
    for (const a of list) if (a && typeof a.id === "string") m.set(a.id, a);
    this.alerts = m;
    this.changed();
  }

  /** Merge alerts from GET /api/alerts (which also lists recent resolved ones). */
  mergeAlerts(list: Alert[]): void {
    for (const a of list) if (a && typeof a.id === "string") this.alerts.set(a.id, a);
    this.changed();
  }

  putAlert(a: Alert): void {
    if (!a || typeof a.id !== "string") return;
    this.alerts.set(a.id, a);
    this.changed();
  }

  /** Add events (from the feed or a REST page); duplicates by seq are dropped. */
  addEvents(sessionId: string, incoming: AgentEvent[]): void {
    if (incoming.length === 0) return;
    let list = this.events.get(sessionId);
    if (!list) {
      list = [];
      this.events.set(sessionId, list);
    }
    const last = list.length ? list[list.length - 1].seq : -Infinity;
    const inOrder = incoming.every((e, i) => e.seq > (i === 0 ? last : incoming[i - 1].seq));
    if (inOrder) {
      list.push(...incoming);
    } else {
      const bySeq = new Map<number, AgentEvent>();
      for (const e of list) bySeq.set(e.seq, e);
      for (const e of incoming) bySeq.set(e.seq, e);
      list = Array.from(bySeq.values()).sort((a, b) => a.seq - b.seq);
      this.events.set(sessionId, list);
    }
    const keep = this.openSessions.has(sessionId) ? KEEP_OPEN : KEEP_BACKGROUND;
    if (list.length > keep) list.splice(0, list.length - keep);
    this.changed();
  }

  clearEvents(): void {
    this.events = new Map();
    this.changed();
  }

  eventsOf(sessionId: string): AgentEvent[] {
    return this.events.get(sessionId) ?? [];
  }

  lastEventOf(sessionId: string): AgentEvent | undefined {
    const l = this.events.get(sessionId);
    if (!l) return undefined;
    for (let i = l.length - 1; i >= 0; i--) if (l[i].kind !== "metric") return l[i];
    return undefined;
  }

  alertsOf(sessionId: string): Alert[] {
    return Array.from(this.alerts.values()).filter((a) => a.sessionID === sessionId);
  }
}

export const store = new Store();

/** Re-render when the store changes; returns the version (use it as a memo key). */
export function useStore(): number {
  return useSyncExternalStore(store.subscribe, store.getVersion);
}

export function isActiveAlert(a: Alert): boolean {
  return a.state === "firing" || a.state === "pending" || a.state === "recovering";
}

/** Firing (or recovering) — what badges count; pending alerts are listed but not counted. */
export function isFiringAlert(a: Alert): boolean {
  return a.state === "firing" || a.state === "recovering";
}
