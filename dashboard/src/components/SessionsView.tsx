import { useMemo, useState } from "react";
import { isFiringAlert, store, useStore } from "../store";
import type { AgentEvent, Session } from "../types";
import { ago, count, duration, ms, parseTime, shortId, shortPath, since, usd } from "../format";
import { onLinkClick, sessionPath } from "../router";
import { AgentBadge, Empty, StatusBadge, STATUS_LABEL, agentLabel, useNow } from "./common";

/** What needs the user first. */
export const STATUS_ORDER = ["waiting", "crashed", "idle", "working", "starting", "ended"];

export function statusRank(status: string): number {
  const i = STATUS_ORDER.indexOf(status);
  return i < 0 ? STATUS_ORDER.length : i;
}

export function sortSessions(list: Session[], alertCount: (id: string) => number): Session[] {
  return [...list].sort((a, b) => {
    const r = statusRank(a.status) - statusRank(b.status);
    if (r !== 0) return r;
    const al = alertCount(b.id) - alertCount(a.id);
    if (al !== 0) return al;
    // Within a status: the most recent change first (a session that just finished, a new crash).
    return (parseTime(b.statusSince) ?? 0) - (parseTime(a.statusSince) ?? 0) || a.id.localeCompare(b.id);
  });
}

export function sessionTitle(s: Session): string {
  if (s.name) return s.name;
  if (s.cwd) return shortPath(s.cwd);
  return shortId(s.id);
}

export function describeEvent(e: AgentEvent): string {
  const f = e.facts ?? {};
  const tool = typeof f.toolName === "string" ? f.toolName : "tool";
  switch (e.kind) {
    case "user_prompt":
      return "Prompt";
    case "assistant_response":
      return "Response";
    case "api_request":
      return `API call${typeof f.model === "string" ? ` · ${f.model}` : ""}`;
    case "api_error":
      return `API error${f.statusCode !== undefined ? ` ${String(f.statusCode)}` : ""}`;
    case "tool_result":
      return `${tool} ${f.success === false ? "failed" : "ok"}${f.durationMs !== undefined ? ` · ${ms(f.durationMs)}` : ""}`;
    case "tool_decision":
      return `${tool}: decision`;
    case "permission_request":
      return `Permission: ${tool}`;
    case "turn_finished":
      return "Turn finished";
    case "session_start":
      return "Session started";
    case "session_end":
      return "Session ended";
    case "process_start":
      return "Process started";
    case "process_exit":
      return `Process exited${f.exitCode !== undefined ? ` (${String(f.exitCode)})` : f.exitSignal !== undefined ? ` (signal ${String(f.exitSignal)})` : ""}`;
    default:
      return e.name || e.kind;
  }
}

function SessionCard({ s, now }: { s: Session; now: number }) {
  const c = s.counters ?? {};
  const alerts = store.alertsOf(s.id).filter(isFiringAlert);
  const unacked = alerts.filter((a) => !a.acknowledged).length;
  const last = store.lastEventOf(s.id);
  const tokens = (c.inputTokens ?? 0) + (c.outputTokens ?? 0) + (c.cacheReadTokens ?? 0) + (c.cacheCreationTokens ?? 0);
  const path = sessionPath(s.id);
  const showReason = !!s.statusReason && (s.status === "waiting" || s.status === "crashed");
  return (
    <li className={`card session-card card-${s.status}`} data-testid="session-card" data-session-id={s.id} data-status={s.status}>
      <a href={path} className="card-link" onClick={(e) => onLinkClick(e, path)}>
        <div className="card-top">
          <AgentBadge agent={s.agent} />
          <span className="card-title" title={s.cwd ?? s.id}>
            {sessionTitle(s)}
          </span>
          {alerts.length > 0 ? (
            <span className={`alert-badge${unacked ? " alert-badge-hot" : ""}`} data-testid="alert-badge" title={`${alerts.length} firing alert(s)`}>
              {alerts.length}
            </span>
          ) : null}
        </div>
        <div className="card-status">
          <StatusBadge status={s.status} />
          <span className="muted" title={s.statusReason ?? undefined}>
            for {since(s.statusSince, now)}
          </span>
        </div>
        {showReason ? <div className="card-reason">{s.statusReason}</div> : null}
        <dl className="card-stats">
          <div>
            <dt>Runtime</dt>
            <dd data-testid="runtime">{s.status === "ended" || s.status === "crashed" ? duration((parseTime(s.lastSeen) ?? now) - (parseTime(s.firstSeen) ?? now)) : since(s.firstSeen, now)}</dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd data-testid="cost">{usd(c.costUSD)}</dd>
          </div>
          <div>
            <dt>Tokens</dt>
            <dd>{count(tokens)}</dd>
          </div>
          <div>
            <dt>Tools</dt>
            <dd>
              {count(c.toolCalls)}
              {c.toolErrors ? <span className="err"> · {c.toolErrors}✗</span> : null}
            </dd>
          </div>
        </dl>
        <div className="card-foot muted">
          <span>{last ? describeEvent(last) : (showReason ? null : s.statusReason) ?? s.model ?? ""}</span>
          <span>{ago(s.lastProgress ?? s.lastSeen, now)}</span>
        </div>
      </a>
    </li>
  );
}

const STATUS_FILTERS = ["all", "attention", ...STATUS_ORDER];

export function SessionsView() {
  const version = useStore();
  const now = useNow(1000);
  const [statusFilter, setStatusFilter] = useState<string>("all");
  const [agentFilter, setAgentFilter] = useState<string>("all");

  const all = useMemo(() => Array.from(store.sessions.values()), [version]);
  const agents = useMemo(() => Array.from(new Set(all.map((s) => s.agent))).sort(), [all]);
  const countsByStatus = useMemo(() => {
    const m: Record<string, number> = {};
    for (const s of all) m[s.status] = (m[s.status] ?? 0) + 1;
    return m;
  }, [all]);
  const shown = useMemo(() => {
    const alertCount = (id: string) => store.alertsOf(id).filter(isFiringAlert).length;
    const filtered = all.filter(
      (s) =>
        (agentFilter === "all" || s.agent === agentFilter) &&
        (statusFilter === "all" || (statusFilter === "attention" ? s.status === "waiting" || s.status === "crashed" || alertCount(s.id) > 0 : s.status === statusFilter)),
    );
    return sortSessions(filtered, alertCount);
  }, [all, statusFilter, agentFilter, version]);

  return (
    <section className="view" aria-labelledby="sessions-h">
      <header className="view-head">
        <h1 id="sessions-h">Sessions</h1>
        <span className="muted" data-testid="session-count">
          {shown.length === all.length ? `${all.length}` : `${shown.length} of ${all.length}`}
        </span>
      </header>
      <div className="filters" role="group" aria-label="Filters">
        <div className="chips" role="radiogroup" aria-label="Status">
          {STATUS_FILTERS.map((f) => {
            const n = f === "all" ? all.length : f === "attention" ? (countsByStatus.waiting ?? 0) + (countsByStatus.crashed ?? 0) : countsByStatus[f] ?? 0;
            if (f !== "all" && f !== "attention" && n === 0 && statusFilter !== f) return null;
            return (
              <button key={f} type="button" role="radio" aria-checked={statusFilter === f} className={`chip${statusFilter === f ? " chip-on" : ""}${f !== "all" && f !== "attention" ? ` chip-${f}` : ""}`} onClick={() => setStatusFilter(f)} data-testid={`filter-${f}`}>
                {f === "all" ? "All" : f === "attention" ? "Needs you" : STATUS_LABEL[f] ?? f}
                <span className="chip-n">{n}</span>
              </button>
            );
          })}
        </div>
        <label className="select-wrap">
          <span className="visually-hidden">Agent</span>
          <select value={agentFilter} onChange={(e) => setAgentFilter(e.target.value)} data-testid="agent-filter">
            <option value="all">All agents</option>
            {agents.map((a) => (
              <option key={a} value={a}>
                {agentLabel(a)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {all.length === 0 ? (
        <Empty title="No sessions yet">
          <p>Point an agent's OpenTelemetry at the sink (see docs/agents.md); its session shows up here as soon as the first record arrives.</p>
        </Empty>
      ) : shown.length === 0 ? (
        <Empty title="Nothing matches these filters" />
      ) : (
        <ul className="cards" data-testid="session-list">
          {shown.map((s) => (
            <SessionCard key={s.id} s={s} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}
