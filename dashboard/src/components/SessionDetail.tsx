import { useEffect, useMemo, useState } from "react";
import { ApiError, describeError, getJSON } from "../api";
import { KEEP_OPEN, isActiveAlert, store, useStore } from "../store";
import type { AgentEvent, Session } from "../types";
import { clock, count, dateTime, ms, since, usd, duration, parseTime } from "../format";
import { liveLink } from "../live";
import { navigate, onLinkClick } from "../router";
import { AlertRow } from "./AlertsView";
import { ControlPanel } from "./ControlPanel";
import { AgentBadge, Empty, Notice, StatusBadge, useNow } from "./common";
import { describeEvent, sessionTitle } from "./SessionsView";

const PAGE = 1000;
/** Pages read when the view opens (the API pages forward only; the store keeps the newest events). */
const MAX_PAGES = 500;
const POLL_MS = 2000;

type EventsPage = { events: AgentEvent[]; nextAfter: number };

/** Loads the session's events from REST (all pages), then, while the live feed is down, polls for new ones. */
function useSessionEvents(id: string): { loading: boolean; error: string | null; truncated: boolean } {
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [truncated, setTruncated] = useState(false);
  const gapEpoch = store.gapEpoch;
  useEffect(() => {
    let cancelled = false;
    let after = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    store.openSessions.add(id);
    async function fetchPages(maxPages: number): Promise<boolean> {
      for (let i = 0; i < maxPages; i++) {
        const page = await getJSON<EventsPage>(`/api/sessions/${encodeURIComponent(id)}/events?after=${after}&limit=${PAGE}`);
        if (cancelled) return true;
        const evs = Array.isArray(page.events) ? page.events : [];
        if (evs.length) store.addEvents(id, evs);
        if (!evs.length || typeof page.nextAfter !== "number" || page.nextAfter <= after) return true;
        after = page.nextAfter;
      }
      return false;
    }
    async function poll() {
      timer = null;
      if (cancelled) return;
      if (!liveLink.isLive && document.visibilityState === "visible") {
        try {
          await fetchPages(5);
          setError(null);
        } catch {
          /* the link indicator already says the sink is unreachable */
        }
      }
      if (!cancelled) timer = setTimeout(() => void poll(), POLL_MS);
    }
    setLoading(true);
    fetchPages(MAX_PAGES)
      .then((complete) => {
        if (cancelled) return;
        setTruncated(!complete);
        setError(null);
      })
      .catch((e) => {
        if (!cancelled) setError(e instanceof ApiError && e.status === 404 ? "not-found" : describeError(e));
      })
      .finally(() => {
        if (cancelled) return;
        setLoading(false);
        timer = setTimeout(() => void poll(), POLL_MS);
      });
    return () => {
      cancelled = true;
      if (timer !== null) clearTimeout(timer);
      store.openSessions.delete(id);
    };
  }, [id, gapEpoch]);
  return { loading, error, truncated };
}

function useSession(id: string): { session: Session | undefined; missing: boolean } {
  useStore();
  const [missing, setMissing] = useState(false);
  const session = store.sessions.get(id);
  useEffect(() => {
    if (store.sessions.get(id)) return;
    let cancelled = false;
    getJSON<Session>(`/api/sessions/${encodeURIComponent(id)}`)
      .then((s) => {
        if (!cancelled && s && s.id) store.putSession(s);
      })
      .catch((e) => {
        if (!cancelled && e instanceof ApiError && e.status === 404) setMissing(true);
      });
    return () => {
      cancelled = true;
    };
  }, [id]);
  return { session, missing: missing && !session };
}

const FILTERS: Record<string, (e: AgentEvent) => boolean> = {
  All: (e) => e.kind !== "metric",
  Tools: (e) => e.kind === "tool_result" || e.kind === "tool_decision" || e.kind === "permission_request",
  API: (e) => e.kind === "api_request" || e.kind === "api_error",
  Prompts: (e) => e.kind === "user_prompt" || e.kind === "assistant_response" || e.kind === "turn_finished",
  Errors: (e) => isError(e),
  Metrics: (e) => e.kind === "metric",
};

function isError(e: AgentEvent): boolean {
  return e.kind === "api_error" || e.facts?.success === false || (e.kind === "process_exit" && e.facts?.exitCode !== 0);
}

function EventRow({ e }: { e: AgentEvent }) {
  const f = e.facts ?? {};
  const err = isError(e);
  const cls = e.kind === "tool_result" ? (f.success === false ? "ev-fail" : "ev-ok") : err ? "ev-fail" : "";
  const tokens = (Number(f.inputTokens) || 0) + (Number(f.outputTokens) || 0);
  return (
    <li className={`event ev-${e.kind} ${cls}`} data-testid="event" data-kind={e.kind} data-seq={e.seq}>
      <details>
        <summary>
          <span className="ev-time">{clock(e.time)}</span>
          <span className="ev-icon" aria-hidden="true" />
          <span className="ev-text">{describeEvent(e)}</span>
          <span className="ev-extra">
            {e.kind === "api_request" && typeof f.costUSD === "number" ? usd(f.costUSD) : null}
            {e.kind === "api_request" && tokens ? ` · ${count(tokens)} tok` : null}
            {e.kind !== "tool_result" && e.kind !== "api_request" && f.durationMs !== undefined ? ms(f.durationMs) : null}
          </span>
        </summary>
        <div className="ev-detail">
          {typeof f.error === "string" ? <p className="err">{f.error}</p> : null}
          <p className="muted">
            {e.name} · {e.source} · seq {e.seq} · {dateTime(e.time)}
          </p>
          <pre>{JSON.stringify({ facts: e.facts, attributes: e.attributes }, null, 2)}</pre>
        </div>
      </details>
    </li>
  );
}

function Counters({ s }: { s: Session }) {
  const c = s.counters ?? {};
  const items: [string, string, boolean?][] = [
    ["Cost", usd(c.costUSD)],
    ["Input tokens", count(c.inputTokens)],
    ["Output tokens", count(c.outputTokens)],
    ["Cache read", count(c.cacheReadTokens)],
    ["Cache write", count(c.cacheCreationTokens)],
    ["Prompts", count(c.prompts)],
    ["API calls", count(c.apiRequests)],
    ["API errors", count(c.apiErrors), (c.apiErrors ?? 0) > 0],
    ["Tool calls", count(c.toolCalls)],
    ["Tool errors", count(c.toolErrors), (c.toolErrors ?? 0) > 0],
    ["Events", count(c.events)],
  ];
  return (
    <dl className="counters" data-testid="counters">
      {items.map(([k, v, bad]) => (
        <div key={k} className={bad ? "bad" : undefined}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

const SHOW_STEP = 200;

export function SessionDetail({ id }: { id: string }) {
  const version = useStore();
  const now = useNow(1000);
  const { session: s, missing } = useSession(id);
  const { loading, error, truncated } = useSessionEvents(id);
  const [filter, setFilter] = useState("All");
  const [limit, setLimit] = useState(SHOW_STEP);
  const events = useMemo(() => {
    const pred = FILTERS[filter] ?? FILTERS.All;
    return store.eventsOf(id).filter(pred).reverse();
  }, [id, filter, version]);
  const alerts = useMemo(() => store.alertsOf(id).sort((a, b) => Number(isActiveAlert(b)) - Number(isActiveAlert(a))), [id, version]);

  if (missing || error === "not-found") {
    return (
      <section className="view">
        <Empty title="No such session">
          <p>
            <a href="/" onClick={(e) => onLinkClick(e, "/")}>
              Back to sessions
            </a>
          </p>
        </Empty>
      </section>
    );
  }
  if (!s) {
    return (
      <section className="view">
        <p className="muted">Loading session…</p>
      </section>
    );
  }
  const endedAt = s.status === "ended" || s.status === "crashed" ? parseTime(s.lastSeen) : null;
  return (
    <section className="view detail" aria-labelledby="detail-h" data-testid="session-detail" data-session-id={s.id} data-status={s.status}>
      <header className="view-head detail-head">
        <button type="button" className="btn btn-quiet back" onClick={() => (history.length > 1 ? history.back() : navigate("/"))} aria-label="Back">
          ‹
        </button>
        <div className="detail-title">
          <h1 id="detail-h">{sessionTitle(s)}</h1>
          <div className="detail-sub">
            <AgentBadge agent={s.agent} />
            <StatusBadge status={s.status} />
            <span className="muted">for {since(s.statusSince, now)}</span>
          </div>
        </div>
      </header>
      {s.statusReason ? <p className="reason">{s.statusReason}</p> : null}
      <dl className="facts">
        <div>
          <dt>Runtime</dt>
          <dd>{endedAt !== null ? duration(endedAt - (parseTime(s.firstSeen) ?? endedAt)) : since(s.firstSeen, now)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{dateTime(s.firstSeen)}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>{dateTime(s.lastSeen)}</dd>
        </div>
        {s.model ? (
          <div>
            <dt>Model</dt>
            <dd>{s.model}</dd>
          </div>
        ) : null}
        {s.cwd ? (
          <div className="wide">
            <dt>Directory</dt>
            <dd className="mono">{s.cwd}</dd>
          </div>
        ) : null}
        <div className="wide">
          <dt>Session id</dt>
          <dd className="mono">{s.id}</dd>
        </div>
      </dl>
      <ControlPanel s={s} title={sessionTitle(s)} />
      <Counters s={s} />
      {alerts.length ? (
        <>
          <h2>Alerts</h2>
          <ul className="cards">
            {alerts.map((a) => (
              <AlertRow key={a.id} a={a} showSession={false} />
            ))}
          </ul>
        </>
      ) : null}
      <h2>Timeline</h2>
      <div className="chips" role="radiogroup" aria-label="Event filter">
        {Object.keys(FILTERS).map((k) => (
          <button key={k} type="button" role="radio" aria-checked={filter === k} className={`chip${filter === k ? " chip-on" : ""}`} onClick={() => setFilter(k)}>
            {k}
          </button>
        ))}
      </div>
      {error && error !== "not-found" ? <Notice kind="error">Could not load events: {error}</Notice> : null}
      {truncated || store.eventsOf(id).length >= KEEP_OPEN ? <Notice kind="info">Showing the newest {count(store.eventsOf(id).length)} events of this session.</Notice> : null}
      {loading && events.length === 0 ? <p className="muted">Loading events…</p> : null}
      {!loading && events.length === 0 ? <p className="muted">No events{filter !== "All" ? " of this kind" : ""} yet.</p> : null}
      <ol className="timeline" data-testid="timeline">
        {events.slice(0, limit).map((e) => (
          <EventRow key={e.seq} e={e} />
        ))}
      </ol>
      {events.length > limit ? (
        <button type="button" className="btn btn-quiet more" onClick={() => setLimit(limit + SHOW_STEP)}>
          Show older ({events.length - limit} more)
        </button>
      ) : null}
    </section>
  );
}
