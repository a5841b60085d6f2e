import { useState } from "react";
import { ApiError, describeError } from "../api";
import { login } from "../auth";
import { store, useStore } from "../store";
import { Notice } from "./common";

/** Shown instead of the app when the sink wants a device token (a browser on another machine). */
export function LoginView() {
  useStore();
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError("Paste a device token first.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(t);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        setError(`Too many failed attempts. Try again${err.retryAfter ? ` in ${err.retryAfter} s` : " later"}.`);
      } else if (err instanceof ApiError && err.status === 401) {
        setError(`The sink refused this token: ${err.message}`);
      } else {
        setError(describeError(err));
      }
      setBusy(false);
    }
  }
  return (
    <main className="login" id="main" data-testid="login">
      <form className="panel login-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-h" noValidate>
        <div className="login-brand">
          <img src="/icons/icon-192.png" alt="" width={40} height={40} />
          <h1 id="login-h">Observatory</h1>
        </div>
        <p>This sink is reached from another machine, so it asks for a <strong>device token</strong> before it shows your agents.</p>
        {store.loginReason && !error ? <Notice kind="warn">Logged out: {store.loginReason}</Notice> : null}
        <label className="field">
          Device token
          <input
            type="password"
            name="token"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            autoComplete="off"
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
            placeholder="obsd_…"
            aria-describedby="login-help"
            data-testid="login-token"
            autoFocus
          />
        </label>
        <button type="submit" className="btn btn-primary login-submit" disabled={busy} data-testid="login-submit">
          {busy ? "Logging in…" : "Log in"}
        </button>
        {error ? (
          <div data-testid="login-error">
            <Notice kind="error">{error}</Notice>
          </div>
        ) : null}
        <div id="login-help" className="login-help muted small">
          <p>On the machine that runs the sink, make one for this device:</p>
          <pre>observatory token create --device NAME</pre>
          <p>
            It prints the token (<code>obsd_…</code>) once. Paste it here; this browser keeps it in a cookie, and <code>observatory token revoke NAME</code> ends it.
          </p>
        </div>
      </form>
    </main>
  );
}
