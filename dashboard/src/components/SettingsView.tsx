import { useEffect, useState } from "react";
import { ApiError, controlToken, describeError, setControlToken } from "../api";
import { currentSubscription, defaultLabel, disableNotifications, enableNotifications, pushSupport, sendTestNotification } from "../push";
import { store, useStore } from "../store";
import { loadTheme, saveTheme, type ThemeChoice } from "../theme";
import { ago } from "../format";
import { Notice, useNow } from "./common";

type Msg = { kind: "ok" | "error" | "warn" | "info"; text: string } | null;

function Notifications() {
  const [sup, setSup] = useState(pushSupport);
  const [subscribed, setSubscribed] = useState<boolean | null>(null);
  const [label, setLabel] = useState(defaultLabel);
  const [busy, setBusy] = useState<string | null>(null);
  const [msg, setMsg] = useState<Msg>(null);

  useEffect(() => {
    let cancelled = false;
    currentSubscription()
      .then((s) => !cancelled && setSubscribed(s !== null))
      .catch(() => !cancelled && setSubscribed(false));
    return () => {
      cancelled = true;
    };
  }, []);

  async function enable() {
    setBusy("enable");
    setMsg(null);
    try {
      await enableNotifications(label.trim() || defaultLabel(), (step) => setMsg({ kind: "info", text: step }));
      setSubscribed(true);
      setMsg({ kind: "ok", text: "Notifications are on for this device." });
    } catch (e) {
      setMsg({ kind: e instanceof ApiError && e.missing ? "warn" : "error", text: e instanceof ApiError && e.missing ? "This sink does not offer push notifications yet." : describeError(e) });
    } finally {
      setSup(pushSupport());
      setBusy(null);
    }
  }
  async function disable() {
    setBusy("disable");
    setMsg(null);
    try {
      await disableNotifications();
      setSubscribed(false);
      setMsg({ kind: "ok", text: "Notifications are off for this device." });
    } catch (e) {
      setMsg({ kind: "error", text: describeError(e) });
    } finally {
      setBusy(null);
    }
  }
  async function test() {
    setBusy("test");
    setMsg(null);
    try {
      const queued = await sendTestNotification();
      setMsg({ kind: "ok", text: `Test notification sent${queued !== null ? ` to ${queued} device${queued === 1 ? "" : "s"}` : ""}. It should arrive in a few seconds.` });
    } catch (e) {
      setMsg({ kind: e instanceof ApiError && e.missing ? "warn" : "error", text: e instanceof ApiError && e.missing ? "This sink cannot send test notifications yet." : describeError(e) });
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="panel" aria-labelledby="notif-h" data-testid="notifications">
      <h2 id="notif-h">Notifications</h2>
      <p className="muted">Get a push notification when an agent waits for you, finishes, or crashes — even with the dashboard closed.</p>
      {sup.needsHomeScreen ? (
        <Notice kind="warn">
          <strong>On iPhone and iPad, add the Observatory to your Home Screen first.</strong> In Safari tap the Share button, then “Add to Home Screen”, open the Observatory from its new icon, and come back here. Safari only allows notifications for Home Screen apps (iOS 16.4 or later).
        </Notice>
      ) : null}
      {!sup.secure ? <Notice kind="warn">Push needs a secure page: open the dashboard over HTTPS (or on localhost).</Notice> : null}
      {!sup.supported && !sup.needsHomeScreen ? <Notice kind="warn">This browser does not support Web Push.</Notice> : null}
      {sup.permission === "denied" ? <Notice kind="warn">Notifications are blocked for this site. Allow them in the browser's site settings, then try again.</Notice> : null}
      <p className="small" data-testid="push-state">
        Permission: <strong>{sup.permission}</strong> · This device: <strong>{subscribed === null ? "…" : subscribed ? "subscribed" : "not subscribed"}</strong>
      </p>
      <label className="field">
        Device name
        <input type="text" value={label} onChange={(e) => setLabel(e.target.value)} maxLength={80} />
      </label>
      <div className="actions">
        <button type="button" className="btn btn-primary" onClick={() => void enable()} disabled={busy !== null || sup.needsHomeScreen || !sup.supported} data-testid="enable-notifications">
          {busy === "enable" ? "Enabling…" : subscribed ? "Re-register" : "Enable notifications"}
        </button>
        <button type="button" className="btn" onClick={() => void test()} disabled={busy !== null} data-testid="test-notification">
          {busy === "test" ? "Sending…" : "Send test notification"}
        </button>
        {subscribed ? (
          <button type="button" className="btn btn-quiet" onClick={() => void disable()} disabled={busy !== null}>
            Turn off
          </button>
        ) : null}
      </div>
      {msg ? (
        <div data-testid="notif-msg">
          <Notice kind={msg.kind}>{msg.text}</Notice>
        </div>
      ) : null}
    </section>
  );
}

function Appearance({ theme, setTheme }: { theme: ThemeChoice; setTheme: (t: ThemeChoice) => void }) {
  return (
    <section className="panel" aria-labelledby="theme-h">
      <h2 id="theme-h">Appearance</h2>
      <div className="chips" role="radiogroup" aria-label="Theme">
        {(["system", "light", "dark"] as ThemeChoice[]).map((t) => (
          <button key={t} type="button" role="radio" aria-checked={theme === t} className={`chip${theme === t ? " chip-on" : ""}`} onClick={() => setTheme(t)}>
            {t === "system" ? "System" : t === "light" ? "Light" : "Dark"}
          </button>
        ))}
      </div>
    </section>
  );
}

function Control() {
  const [token, setToken] = useState(controlToken);
  const [saved, setSaved] = useState(false);
  return (
    <section className="panel" aria-labelledby="control-h">
      <h2 id="control-h">Control token</h2>
      <p className="muted">Kill and restart need the sink's control token (<code>observatory token create</code>). It is kept in this browser only.</p>
      <form
        className="token-form"
        onSubmit={(e) => {
          e.preventDefault();
          setControlToken(token.trim());
          setSaved(true);
        }}
      >
        <label className="field">
          Token
          <input type="password" autoComplete="off" value={token} onChange={(e) => { setToken(e.target.value); setSaved(false); }} />
        </label>
        <button type="submit" className="btn">
          {saved ? "Saved" : "Save"}
        </button>
      </form>
    </section>
  );
}

function Connection() {
  useStore();
  const now = useNow(2000);
  const l = store.link;
  return (
    <section className="panel" aria-labelledby="conn-h">
      <h2 id="conn-h">Connection</h2>
      <p className="small">
        <strong>{l.state}</strong> — {l.detail}
        {l.lastContact ? ` · last contact ${ago(new Date(l.lastContact).toISOString(), now)}` : ""}
        {store.lastSeq ? ` · seq ${store.lastSeq}` : ""}
      </p>
    </section>
  );
}

export function SettingsView({ theme, setTheme }: { theme: ThemeChoice; setTheme: (t: ThemeChoice) => void }) {
  return (
    <section className="view" aria-labelledby="settings-h">
      <header className="view-head">
        <h1 id="settings-h">Settings</h1>
      </header>
      <Notifications />
      <Appearance theme={theme} setTheme={setTheme} />
      <Control />
      <Connection />
    </section>
  );
}

export function useTheme(): [ThemeChoice, (t: ThemeChoice) => void] {
  const [theme, setThemeState] = useState<ThemeChoice>(loadTheme);
  useEffect(() => {
    saveTheme(theme);
    if (theme !== "system" || !window.matchMedia) return;
    const mq = window.matchMedia("(prefers-color-scheme: dark)");
    const on = () => saveTheme("system");
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, [theme]);
  return [theme, setThemeState];
}
