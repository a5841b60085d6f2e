import { useRoster } from "../agents";
import { ago, shortId, shortPath } from "../format";
import { onLinkClick, sessionPath } from "../router";
import { store } from "../store";
import { AgentBadge, Notice, StatusBadge, useNow } from "./common";
import { sessionTitle } from "./SessionsView";

/** The control helper's view of the machine: agents run under `observatory run` (controllable
 * from their session) and agent processes started without it (read-only). */
export function AgentsView() {
  const roster = useRoster();
  const now = useNow(5000);
  if (roster === "missing") {
    return (
      <section className="view" aria-labelledby="agents-h">
        <header className="view-head">
          <h1 id="agents-h">Agents</h1>
        </header>
        <Notice kind="warn">This sink does not list agent processes yet.</Notice>
      </section>
    );
  }
  const agents = roster?.agents ?? [];
  const unwrapped = roster?.unwrapped ?? [];
  return (
    <section className="view" aria-labelledby="agents-h" data-testid="agents-view" data-helper={roster?.helper ?? "loading"}>
      <header className="view-head">
        <h1 id="agents-h">Agents</h1>
        {roster ? <span className="muted">{agents.length + unwrapped.length}</span> : null}
      </header>
      {roster === null ? <p className="muted">Asking the control helper…</p> : null}
      {roster && roster.helper !== "running" ? (
        <div data-testid="helper-down">
          <Notice kind="warn">
            The control helper is not running, so the sink cannot list or control agents. Start <code>observatory helper</code> on the machine running the sink.
            {roster.error ? <span className="muted small block">{roster.error}</span> : null}
          </Notice>
        </div>
      ) : null}
      {roster && roster.helper === "running" ? (
        <>
          <h2>
            Wrapped <span className="muted small">started with <code>observatory run</code> · can be killed and restarted</span>
          </h2>
          {agents.length === 0 ? (
            <p className="muted">
              None. Start one with <code>observatory run --name NAME -- COMMAND…</code>
            </p>
          ) : null}
          <ul className="cards" data-testid="wrapped-agents">
            {agents.map((a) => {
              const s = store.sessions.get(a.id);
              const path = sessionPath(a.id);
              return (
                <li key={a.id} className="card agent-card" data-testid="wrapped-agent" data-agent-id={a.id}>
                  <div className="card-top">
                    {s ? <AgentBadge agent={s.agent} /> : null}
                    <span className="card-title">{a.name || (s ? sessionTitle(s) : shortId(a.id))}</span>
                    {s ? <StatusBadge status={s.status} /> : null}
                  </div>
                  <dl className="agent-facts">
                    <div>
                      <dt>pid</dt>
                      <dd>{a.pid}</dd>
                    </div>
                    <div>
                      <dt>Restarts</dt>
                      <dd>{a.restarts}</dd>
                    </div>
                    {a.started ? (
                      <div>
                        <dt>Started</dt>
                        <dd>{ago(a.started, now)}</dd>
                      </div>
                    ) : null}
                    <div className="wide">
                      <dt>Directory</dt>
                      <dd className="mono" title={a.cwd}>
                        {shortPath(a.cwd)}
                      </dd>
                    </div>
                    <div className="wide">
                      <dt>Command</dt>
                      <dd className="mono">{a.argv.join(" ")}</dd>
                    </div>
                  </dl>
                  <a href={path} className="btn agent-link" onClick={(e) => onLinkClick(e, path)} data-testid="agent-session-link">
                    {s ? "Open session" : "Session (no telemetry yet)"}
                  </a>
                </li>
              );
            })}
          </ul>
          <h2>
            Not wrapped <span className="muted small">read-only</span>
          </h2>
          {unwrapped.length === 0 ? <p className="muted">No other agent processes found.</p> : null}
          <ul className="cards" data-testid="unwrapped-agents">
            {unwrapped.map((u) => (
              <li key={u.pid} className="card agent-card agent-unwrapped" data-testid="unwrapped-agent" data-pid={u.pid}>
                <div className="card-top">
                  <AgentBadge agent={u.kind} />
                  <span className="card-title">pid {u.pid}</span>
                  <span className="tag">read-only</span>
                </div>
                <dl className="agent-facts">
                  {u.cwd ? (
                    <div className="wide">
                      <dt>Directory</dt>
                      <dd className="mono" title={u.cwd}>
                        {shortPath(u.cwd)}
                      </dd>
                    </div>
                  ) : null}
                  <div className="wide">
                    <dt>Command</dt>
                    <dd className="mono">{u.argv.join(" ")}</dd>
                  </div>
                </dl>
                <p className="muted small">
                  Started without <code>observatory run</code>, so it cannot be killed or restarted from here.
                </p>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
