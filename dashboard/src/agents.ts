// The control helper's roster (GET /api/agents): agents started with `observatory run` (whose id
// is their session's id, so those sessions can be killed and restarted) and agent processes
// running without the wrapper (shown, never controlled). Polled every 10 s while a view that
// needs it is open and the page is visible, and at once when such a view opens.

import { useEffect } from "react";
import { ApiError, getJSON } from "./api";
import { store, useStore } from "./store";
import type { AgentRoster, AuthInfo, WrappedAgent } from "./types";

const POLL_MS = 10000;
let users = 0;
let timer: ReturnType<typeof setTimeout> | null = null;
let inflight: Promise<void> | null = null;

function normalize(r: AgentRoster): AgentRoster {
  return {
    helper: typeof r.helper === "string" ? r.helper : "unreachable",
    error: typeof r.error === "string" ? r.error : null,
    agents: Array.isArray(r.agents) ? r.agents.filter((a) => a && typeof a.id === "string") : [],
    unwrapped: Array.isArray(r.unwrapped) ? r.unwrapped.filter((a) => a && typeof a.pid === "number") : [],
  };
}

/** Fetch the roster now (one request at a time). */
export function refreshRoster(): Promise<void> {
  if (inflight) return inflight;
  inflight = (async () => {
    try {
      store.roster = normalize(await getJSON<AgentRoster>("/api/agents"));
    } catch (e) {
      if (e instanceof ApiError && e.missing) store.roster = "missing";
      // Otherwise keep the last answer: the connection indicator says the sink is unreachable.
    } finally {
      store.rosterAt = Date.now();
      store.changed();
      inflight = null;
    }
  })();
  return inflight;
}

function schedule(): void {
  if (timer !== null) clearTimeout(timer);
  timer = users > 0 ? setTimeout(tick, POLL_MS) : null;
}

function tick(): void {
  timer = null;
  if (document.visibilityState === "visible" && !store.loginRequired) void refreshRoster().finally(schedule);
  else schedule();
}

function onVisible(): void {
  if (document.visibilityState === "visible" && Date.now() - store.rosterAt >= POLL_MS) {
    void refreshRoster().finally(schedule);
  }
}

/** The roster, kept fresh while the calling component is mounted. */
export function useRoster(): AgentRoster | "missing" | null {
  useStore();
  useEffect(() => {
    users++;
    if (users === 1) document.addEventListener("visibilitychange", onVisible);
    void refreshRoster().finally(schedule);
    return () => {
      users--;
      if (users === 0) {
        document.removeEventListener("visibilitychange", onVisible);
        schedule();
      }
    };
  }, []);
  return store.roster;
}

export type ControlState =
  /** Not known yet, or the sink has no control API: show nothing. */
  | { kind: "unknown" }
  | { kind: "controllable"; agent: WrappedAgent }
  /** Wrapped, but this browser is remote and the sink does not allow remote control. */
  | { kind: "remote-off"; agent: WrappedAgent }
  | { kind: "helper-down"; error: string | null }
  | { kind: "read-only" };

export function controlState(sessionId: string, roster: AgentRoster | "missing" | null, auth: AuthInfo | null): ControlState {
  if (roster === null || roster === "missing") return { kind: "unknown" };
  const agent = roster.agents.find((a) => a.id === sessionId);
  if (agent) return auth && !auth.local && !auth.remoteControl ? { kind: "remote-off", agent } : { kind: "controllable", agent };
  if (roster.helper !== "running") return { kind: "helper-down", error: roster.error ?? null };
  return { kind: "read-only" };
}
