import { useEffect, useMemo, useRef, useState } from "react";
import { ApiError, describeError, postJSON } from "../api";
import { isActiveAlert, store, useStore } from "../store";
import type { Alert } from "../types";
import { ago, dateTime } from "../format";
import { pollAlerts } from "../live";
import { onLinkClick, sessionPath } from "../router";
import { Empty, Notice, useNow } from "./common";

const SEVERITY_ORDER = ["critical", "error", "warning", "info"];
const STATE_ORDER = ["firing", "pending", "recovering", "resolved"];

export function sortAlerts(list: Alert[]): Alert[] {
  const rank = (xs: string[], v: string) => {
    const i = xs.indexOf(v);
    return i < 0 ? xs.length : i;
  };
  return [...list].sort(
    (a, b) =>
      Number(a.acknowledged) - Number(b.acknowledged) ||
      rank(STATE_ORDER, a.state) - rank(STATE_ORDER, b.state) ||
      rank(SEVERITY_ORDER, a.severity) - rank(SEVERITY_ORDER, b.severity) ||
      (Date.parse(b.firingSince ?? b.activeSince ?? b.resolvedAt ?? "") || 0) - (Date.parse(a.firingSince ?? a.activeSince ?? a.resolvedAt ?? "") || 0),
  );
}

/** What POST /api/silences gets (see docs/dashboard.md). */
/** Alertmanager-style matchers (the rule engine's `Silence`) plus the alert it came from, so the
 * sink can also tie an "until resolved" silence to that instance. */
export function silenceBody(a: Alert, mode: "1h" | "resolved", now = Date.now()) {
  const matchers = [{ name: "rule", op: "=", value: a.ruleID }];
  if (a.sessionID) matchers.push({ name: "session", op: "=", value: a.sessionID });
  const base = {
    matchers,
    alertID: a.id,
    ruleID: a.ruleID,
    sessionID: a.sessionID,
    startsAt: new Date(now).toISOString(),
    comment: mode === "1h" ? "silenced for 1 hour from the dashboard" : "silenced until resolved from the dashboard",
    createdBy: "dashboard",
  };
  return mode === "1h" ? { ...base, endsAt: new Date(now + 3600_000).toISOString(), untilResolved: false } : { ...base, endsAt: null, untilResolved: true };
}

export function AlertRow({ a, showSession = true, focused = false }: { a: Alert; showSession?: boolean; focused?: boolean }) {
  const ref = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (focused && ref.current) ref.current.scrollIntoView({ block: "center" });
  }, [focused]);
  const now = useNow(5000);
  const [busy, setBusy] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ kind: "ok" | "error" | "warn"; text: string } | null>(null);
  const session = a.sessionID ? store.sessions.get(a.sessionID) : undefined;
  const active = isActiveAlert(a);

  async function act(what: "ack" | "1h" | "resolved") {
    setBusy(what);
    setMsg(null);
    try {
      if (what === "ack") {
        const r = await postJSON<Alert | { alert?: Alert } | undefined>(`/api/alerts/${encodeURIComponent(a.id)}/ack`);
        const updated = r && "id" in r ? r : r && "alert" in r ? r.alert : undefined;
        store.putAlert(updated ?? { ...a, acknowledged: true });
        setMsg({ kind: "ok", text: "Acknowledged" });
      } else {
        await postJSON("/api/silences", silenceBody(a, what));
        store.putAlert({ ...a, silenced: true });
        setMsg({ kind: "ok", text: what === "1h" ? "Silenced for 1 hour" : "Silenced until resolved" });
      }
    } catch (e) {
      setMsg({ kind: e instanceof ApiError && e.missing ? "warn" : "error", text: e instanceof ApiError && e.missing ? "This sink cannot do that yet." : describeError(e) });
    } finally {
      setBusy(null);
    }
  }

  return (
    <li ref={ref} className={`card alert-card sev-${a.severity} state-${a.state}${a.acknowledged ? " acked" : ""}${focused ? " alert-focus" : ""}`} data-testid="alert" data-alert-id={a.id} data-focused={focused ? "true" : undefined}>
      <div className="alert-top">
        <span className={`sev sev-${a.severity}`}>{a.severity}</span>
        <span className={`alert-state state-${a.state}`}>{a.state}</span>
        {a.acknowledged ? <span className="tag">acknowledged</span> : null}
        {a.silenced ? <span className="tag">silenced</span> : null}
        {a.shadow ? <span className="tag">shadow</span> : null}
        {a.episode > 1 ? <span className="tag">episode {a.episode}</span> : null}
      </div>
      <div className="alert-title">{a.title || a.ruleName}</div>
      {a.body ? <div className="alert-body">{a.body}</div> : null}
      <div className="alert-meta muted">
        <span>{a.ruleName || a.ruleID}</span>
        {a.state === "resolved" ? <span>resolved {ago(a.resolvedAt, now)}</span> : <span title={dateTime(a.firingSince ?? a.activeSince)}>since {ago(a.firingSince ?? a.activeSince, now)}</span>}
        {a.count > 1 ? <span>×{a.count}</span> : null}
        {showSession && a.sessionID ? (
          <a href={sessionPath(a.sessionID)} onClick={(e) => onLinkClick(e, sessionPath(a.sessionID!))}>
            {session?.name ?? session?.cwd ?? `session ${a.sessionID.slice(0, 8)}`}
          </a>
        ) : null}
      </div>
      {active ? (
        <div className="actions">
          {!a.acknowledged ? (
            <button type="button" className="btn" disabled={busy !== null} onClick={() => void act("ack")} data-testid="ack">
              {busy === "ack" ? "…" : "Acknowledge"}
            </button>
          ) : null}
          {!a.silenced ? (
            <>
              <button type="button" className="btn btn-quiet" disabled={busy !== null} onClick={() => void act("1h")} data-testid="silence-1h">
                Silence 1 h
              </button>
              <button type="button" className="btn btn-quiet" disabled={busy !== null} onClick={() => void act("resolved")} data-testid="silence-resolved">
                Silence until resolved
              </button>
            </>
          ) : null}
        </div>
      ) : null}
      {msg ? <Notice kind={msg.kind}>{msg.text}</Notice> : null}
    </li>
  );
}

export function AlertsView({ focus }: { focus?: string }) {
  const version = useStore();
  const focusedResolved = focus !== undefined && store.alerts.has(focus) && !isActiveAlert(store.alerts.get(focus)!);
  const [showResolved, setShowResolved] = useState(false);
  useEffect(() => {
    void pollAlerts();
    const id = setInterval(() => {
      if (document.visibilityState === "visible") void pollAlerts();
    }, 15000);
    return () => clearInterval(id);
  }, []);
  const all = useMemo(() => sortAlerts(Array.from(store.alerts.values())), [version]);
  const active = all.filter(isActiveAlert);
  const resolved = all.filter((a) => !isActiveAlert(a));
  return (
    <section className="view" aria-labelledby="alerts-h">
      <header className="view-head">
        <h1 id="alerts-h">Alerts</h1>
        <span className="muted">{active.length} active</span>
      </header>
      {store.alertsApi === false ? (
        <Notice kind="info">
          This sink has no alert rules API yet (<code>GET /api/alerts</code> answered 404). Alerts that arrive on the live feed still show here.
        </Notice>
      ) : null}
      {active.length === 0 ? (
        <Empty title="No active alerts">
          <p>Everything is quiet.</p>
        </Empty>
      ) : (
        <ul className="cards" data-testid="alert-list">
          {active.map((a) => (
            <AlertRow key={a.id} a={a} focused={a.id === focus} />
          ))}
        </ul>
      )}
      {resolved.length > 0 ? (
        <div className="resolved">
          <button type="button" className="btn btn-quiet" onClick={() => setShowResolved(!(showResolved || focusedResolved))} aria-expanded={showResolved || focusedResolved}>
            {showResolved || focusedResolved ? "Hide" : "Show"} {resolved.length} resolved
          </button>
          {showResolved || focusedResolved ? (
            <ul className="cards">
              {resolved.map((a) => (
                <AlertRow key={a.id} a={a} focused={a.id === focus} />
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
