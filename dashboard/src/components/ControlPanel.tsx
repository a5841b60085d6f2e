import { useState } from "react";
import { ApiError, controlToken, controlTokenRemembered, describeError, forgetControlToken, postControl, setControlToken } from "../api";
import { controlState, refreshRoster, useRoster } from "../agents";
import { store } from "../store";
import { showToast } from "../toast";
import type { ControlOutcome, Session, WrappedAgent } from "../types";
import { Dialog } from "./Dialog";
import { Notice } from "./common";

type Action = "kill" | "restart";

const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 15: "SIGTERM" };

function signalName(n: number): string {
  return SIGNALS[n] ?? `signal ${n}`;
}

/** "Killed build-bot (pid 4242): ended by SIGTERM." */
export function describeOutcome(o: ControlOutcome, name: string): string {
  const how = o.exitSignal !== null && o.exitSignal !== undefined ? `ended by ${signalName(o.exitSignal)}` : o.exitCode !== null && o.exitCode !== undefined ? `exit code ${o.exitCode}` : "stopped";
  const escalated = o.escalated ? "; it ignored SIGTERM, so SIGKILL followed" : "";
  const pid = o.pid !== null && o.pid !== undefined ? `pid ${o.pid}` : "";
  if (o.action === "restart") {
    const next = o.newPid !== null && o.newPid !== undefined ? `, now pid ${o.newPid}` : "";
    return `Restarted ${name} (${pid || "old process"} ${how}${escalated}${next}).`;
  }
  return `Killed ${name}${pid ? ` (${pid})` : ""}: ${how}${escalated}.`;
}

/** Asks for the control token: a password field, kept in memory or (opt-in) on this device. */
function TokenDialog({ error, onCancel, onSubmit }: { error: string | null; onCancel: () => void; onSubmit: (token: string, remember: boolean) => void }) {
  const [token, setToken] = useState("");
  const [remember, setRemember] = useState(controlTokenRemembered());
  return (
    <Dialog title="Control token" onClose={onCancel} testId="token-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onSubmit(token.trim(), remember);
        }}
      >
        <p className="small">
          Kill and restart need the sink's control token (<code>obsc_…</code>). The sink prints one on its first start; <code>observatory token create NAME</code> makes another.
        </p>
        {error ? <Notice kind="error">{error}</Notice> : null}
        <label className="field">
          Control token
          <input type="password" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" autoCapitalize="none" spellCheck={false} placeholder="obsc_…" data-autofocus data-testid="token-input" />
        </label>
        <label className="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} data-testid="token-remember" />
          Remember on this device
        </label>
        <div className="actions dialog-actions">
          <button type="button" className="btn btn-quiet" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={!token.trim()} data-testid="token-submit">
            Use token
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ConfirmDialog({ action, agent, name, onCancel, onConfirm }: { action: Action; agent: WrappedAgent; name: string; onCancel: () => void; onConfirm: () => void }) {
  const kill = action === "kill";
  return (
    <Dialog title={kill ? `Kill ${name}?` : `Restart ${name}?`} onClose={onCancel} testId="confirm" danger={kill}>
      {kill ? (
        <p>
          The agent's process group (pid {agent.pid}) gets <strong>SIGTERM</strong>; if it is still running 5 s later, <strong>SIGKILL</strong>. Work it has not saved is lost.
        </p>
      ) : (
        <p>
          The agent (pid {agent.pid}) is stopped — <strong>SIGTERM</strong>, then <strong>SIGKILL</strong> after 5 s — and its command starts again in <span className="mono">{agent.cwd}</span>. It keeps its agent id, so this session goes on.
        </p>
      )}
      <p className="muted small mono dialog-argv">{agent.argv.join(" ")}</p>
      <div className="actions dialog-actions">
        <button type="button" className="btn btn-quiet" onClick={onCancel} data-autofocus data-testid="confirm-no">
          Cancel
        </button>
        <button type="button" className={`btn ${kill ? "btn-danger" : "btn-primary"}`} onClick={onConfirm} data-testid="confirm-yes">
          {kill ? "Kill" : "Restart"}
        </button>
      </div>
    </Dialog>
  );
}

/** Kill / Restart for a session of an agent started with `observatory run`, or why there are none. */
export function ControlPanel({ s, title }: { s: Session; title: string }) {
  const roster = useRoster();
  const state = controlState(s.id, roster, store.auth);
  const [confirm, setConfirm] = useState<Action | null>(null);
  const [askToken, setAskToken] = useState<{ action: Action; error: string | null } | null>(null);
  const [busy, setBusy] = useState<Action | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  /** The pid killed from here: the roster may list it for a moment longer (a restart from elsewhere gets a new pid). */
  const [killedPid, setKilledPid] = useState<number | null>(null);

  if (state.kind === "unknown") return null;
  if (killedPid !== null && (state.kind !== "controllable" || state.agent.pid === killedPid)) {
    return (
      <p className="muted small control-hint" data-testid="control-hint" data-kind="killed">
        Stopped from this dashboard.
      </p>
    );
  }
  if (state.kind === "helper-down" || state.kind === "read-only") {
    // An ended session has nothing left to control: say nothing.
    if (s.status === "ended" || s.status === "crashed") return null;
    return (
      <p className="muted small control-hint" data-testid="control-hint" data-kind={state.kind} title={state.kind === "helper-down" ? state.error ?? undefined : undefined}>
        {state.kind === "helper-down" ? (
          <>
            Kill and restart need the control helper: start <code>observatory helper</code> on the machine running the sink.
          </>
        ) : (
          <>
            Started without <code>observatory run</code> — read-only.
          </>
        )}
      </p>
    );
  }
  if (state.kind === "remote-off") {
    return (
      <p className="muted small control-hint" data-testid="control-hint" data-kind="remote-off">
        Kill and restart are off from other machines: the sink runs without <code>--allow-remote-control</code>.
      </p>
    );
  }
  const agent = state.agent;
  const name = agent.name || title;

  async function send(action: Action) {
    setBusy(action);
    setMsg(null);
    try {
      const out = await postControl<ControlOutcome>(`/control/${action}`, { session: s.id });
      if (action === "kill") setKilledPid(out.pid ?? agent.pid);
      showToast(describeOutcome(out, name), "ok");
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        forgetControlToken();
        setAskToken({ action, error: `The sink refused the token: ${e.message}` });
      } else if (e instanceof ApiError && e.status === 429) {
        setMsg(`${e.message}${e.retryAfter ? ` (retry in ${e.retryAfter} s)` : ""}`);
      } else {
        setMsg(describeError(e));
      }
    } finally {
      setBusy(null);
      void refreshRoster();
    }
  }

  function confirmed(action: Action) {
    setConfirm(null);
    if (!controlToken()) setAskToken({ action, error: null });
    else void send(action);
  }

  return (
    <div className="control" data-testid="control" data-agent-id={agent.id}>
      <div className="actions">
        <button type="button" className="btn btn-danger" onClick={() => setConfirm("kill")} disabled={busy !== null} aria-label={`Kill ${name}`} data-testid="kill">
          {busy === "kill" ? "Killing…" : "Kill"}
        </button>
        <button type="button" className="btn" onClick={() => setConfirm("restart")} disabled={busy !== null} aria-label={`Restart ${name}`} data-testid="restart">
          {busy === "restart" ? "Restarting…" : "Restart"}
        </button>
        <span className="muted small control-meta">
          pid {agent.pid}
          {agent.restarts ? ` · ${agent.restarts} restart${agent.restarts === 1 ? "" : "s"}` : ""}
        </span>
      </div>
      {msg ? (
        <div data-testid="control-error">
          <Notice kind="error">{msg}</Notice>
        </div>
      ) : null}
      {confirm ? <ConfirmDialog action={confirm} agent={agent} name={name} onCancel={() => setConfirm(null)} onConfirm={() => confirmed(confirm)} /> : null}
      {askToken ? (
        <TokenDialog
          error={askToken.error}
          onCancel={() => setAskToken(null)}
          onSubmit={(token, remember) => {
            const action = askToken.action;
            setControlToken(token, remember);
            setAskToken(null);
            void send(action);
          }}
        />
      ) : null}
    </div>
  );
}
