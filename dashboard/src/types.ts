// Shapes of the sink's JSON (docs/api.md) and of the live WebSocket feed (docs/dashboard.md).

export type AgentKind = "claude-code" | "codex" | "gemini-cli" | "genai" | "generic" | string;
export type SessionStatus = "starting" | "working" | "waiting" | "idle" | "ended" | "crashed";

export interface Counters {
  costUSD: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  toolCalls: number;
  toolErrors: number;
  apiRequests: number;
  apiErrors: number;
  prompts: number;
  events: number;
}

export interface Session {
  id: string;
  agent: AgentKind;
  name: string | null;
  model: string | null;
  cwd: string | null;
  status: SessionStatus | string;
  statusReason?: string | null;
  statusSince: string;
  firstSeen: string;
  lastSeen: string;
  lastProgress: string | null;
  counters: Partial<Counters>;
}

export interface AgentEvent {
  seq: number;
  sessionId: string;
  agent: AgentKind;
  kind: string;
  name: string;
  source: string;
  time: string;
  receivedAt: string;
  facts: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

export interface Alert {
  id: string;
  ruleID: string;
  ruleName: string;
  severity: string;
  /** pending, firing, recovering, resolved */
  state: string;
  sessionID: string | null;
  labels: Record<string, string>;
  episode: number;
  count: number;
  activeSince: string | null;
  firingSince: string | null;
  resolvedAt: string | null;
  resolveReason?: string | null;
  acknowledged: boolean;
  silenced: boolean;
  inhibited?: boolean;
  shadow?: boolean;
  value?: number | null;
  title: string;
  body: string;
}

export type LiveMessage =
  | { type: "snapshot"; seq: number; sessions: Session[]; alerts: Alert[]; replayTruncated?: boolean }
  | { type: "event"; seq: number; event: AgentEvent }
  | { type: "session"; seq: number; session: Session }
  | { type: "alert"; alert: Alert }
  | { type: "resync"; reason: string }
  /** Several of the above, in order, in one frame (what waited while the sink wrote). */
  | { type: "batch"; messages: LiveMessage[] };

/** How the dashboard currently receives data. */
export type LinkState = "connecting" | "live" | "polling" | "offline";

/** GET /api/auth: who this browser is to the sink (docs/api.md). */
export interface AuthInfo {
  local: boolean;
  authenticated: boolean;
  loginRequired: boolean;
  /** Kill/restart are allowed from where this page runs (always true locally). */
  remoteControl: boolean;
  token: { id: string; name: string; scope: string } | null;
}

/** An agent started with `observatory run`; its id is the id of its session. */
export interface WrappedAgent {
  id: string;
  name: string;
  pid: number;
  argv: string[];
  cwd: string;
  started: string | null;
  restarts: number;
}

/** An agent process running without the wrapper: shown, never controlled. */
export interface UnwrappedAgent {
  pid: number;
  kind: string;
  argv: string[];
  cwd: string | null;
}

/** GET /api/agents. */
export interface AgentRoster {
  helper: "running" | "unreachable" | string;
  error?: string | null;
  agents: WrappedAgent[];
  unwrapped: UnwrappedAgent[];
}

/** 200 from POST /control/kill and /control/restart. */
export interface ControlOutcome {
  ok: boolean;
  action: string;
  agent: string;
  session?: string | null;
  pid: number | null;
  newPid: number | null;
  exitCode: number | null;
  exitSignal: number | null;
  escalated: boolean;
}
