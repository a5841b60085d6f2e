import { useEffect, useState } from "react";
import { store } from "../store";
import { ago } from "../format";
import { liveLink } from "../live";
import { dismissToast, useToasts } from "../toast";

/** The current time, updated every `ms` while the page is visible. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = () => setNow(Date.now());
    const id = setInterval(() => {
      if (document.visibilityState === "visible") tick();
    }, ms);
    document.addEventListener("visibilitychange", tick);
    return () => {
      clearInterval(id);
      document.removeEventListener("visibilitychange", tick);
    };
  }, [ms]);
  return now;
}

const AGENT_LABEL: Record<string, string> = {
  "claude-code": "Claude Code",
  codex: "Codex",
  "gemini-cli": "Gemini CLI",
  genai: "GenAI",
  generic: "Agent",
};

export function agentLabel(agent: string): string {
  return AGENT_LABEL[agent] ?? agent;
}

export function AgentBadge({ agent }: { agent: string }) {
  const known = agent in AGENT_LABEL ? agent : "generic";
  return <span className={`agent-badge agent-${known}`}>{agentLabel(agent)}</span>;
}

export const STATUS_LABEL: Record<string, string> = {
  waiting: "Waiting for you",
  crashed: "Crashed",
  idle: "Idle",
  working: "Working",
  starting: "Starting",
  ended: "Ended",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`status-badge status-${status in STATUS_LABEL ? status : "unknown"}`} data-testid="status">
      <span className="status-dot" aria-hidden="true" />
      {STATUS_LABEL[status] ?? status}
    </span>
  );
}

export function ConnectionIndicator({ compact = false }: { compact?: boolean }) {
  const link = store.link;
  const now = useNow(5000);
  const label = link.state === "live" ? "Live" : link.state === "polling" ? "Polling" : link.state === "offline" ? "Offline" : "Connecting";
  const title = `${link.detail}${link.lastContact ? ` · last contact ${ago(new Date(link.lastContact).toISOString(), now)}` : ""}`;
  return (
    <button
      type="button"
      className={`conn conn-${link.state}`}
      data-testid="connection"
      data-state={link.state}
      title={title}
      aria-label={`Connection: ${label}. ${title}. Tap to reconnect.`}
      onClick={() => liveLink.reconnectNow("tapped")}
    >
      <span className="conn-dot" aria-hidden="true" />
      {compact ? null : <span className="conn-label">{label}</span>}
    </button>
  );
}

export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function Notice({ kind = "info", children }: { kind?: "info" | "warn" | "error" | "ok"; children: React.ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

const ICON_PATHS: Record<string, string> = {
  sessions: "M4 5h16v4H4zM4 11h16v4H4zM4 17h10v3H4z",
  alerts: "M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zm-2 15a2 2 0 0 0 4 0z",
  settings: "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zm8.6 5.3-1.8-.3a7 7 0 0 1-.6 1.5l1 1.5-1.9 1.9-1.5-1a7 7 0 0 1-1.5.6l-.3 1.8h-2.7l-.3-1.8a7 7 0 0 1-1.5-.6l-1.5 1-1.9-1.9 1-1.5a7 7 0 0 1-.6-1.5L3.4 13v-2.7l1.8-.3a7 7 0 0 1 .6-1.5l-1-1.5 1.9-1.9 1.5 1a7 7 0 0 1 1.5-.6l.3-1.8h2.7l.3 1.8a7 7 0 0 1 1.5.6l1.5-1 1.9 1.9-1 1.5a7 7 0 0 1 .6 1.5l1.8.3z",
  sun: "M12 7a5 5 0 1 0 0 10 5 5 0 0 0 0-10zM11 1h2v3h-2zM11 20h2v3h-2zM1 11h3v2H1zM20 11h3v2h-3zM4.2 5.6l1.4-1.4 2.1 2.1-1.4 1.4zM16.3 17.7l1.4-1.4 2.1 2.1-1.4 1.4zM4.2 18.4l2.1-2.1 1.4 1.4-2.1 2.1zM16.3 6.3l2.1-2.1 1.4 1.4-2.1 2.1z",
  moon: "M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z",
  agents: "M3 4h18v16H3zM5.5 8.2l4 3.3-4 3.3v-2l1.8-1.3-1.8-1.3zM11 14h6v1.8h-6z",
};

export function Icon({ name, className }: { name: string; className?: string }) {
  return (
    <svg className={`icon ${className ?? ""}`} viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      <path d={ICON_PATHS[name] ?? ""} fill="currentColor" fillRule="evenodd" />
    </svg>
  );
}

/** Control outcomes and other short messages, above the tab bar; each can be dismissed. */
export function Toasts() {
  const toasts = useToasts();
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} data-testid="toast" data-kind={t.kind}>
          <span>{t.text}</span>
          <button type="button" className="icon-btn toast-close" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
