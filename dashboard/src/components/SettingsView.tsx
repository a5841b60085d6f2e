import { useEffect, useState } from "react";
import { ApiError, controlToken, controlTokenRemembered, describeError, forgetControlToken, setControlToken } from "../api";
import { logout } from "../auth";
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
  const [token, setToken] = useState("");
  const [remember, setRemember] = useState(controlTokenRemembered);
  const [has, setHas] = useState(() => controlToken() !== "");
  const [saved, setSaved] = useState(false);
  return (
    <section className="panel" aria-labelledby="control-h" data-testid="control-settings">
      <h2 id="control-h">Control token</h2>
      <p className="muted">
        Kill and restart need the sink's control token (<code>obsc_…</code>, from <code>observatory token create NAME</code>). The dashboard asks for it the first time; it is sent only to <code>/control/…</code>.
      </p>
      <p className="small" data-testid="control-token-state">
        This page: <strong>{has ? (controlTokenRemembered() ? "token remembered on this device" : "token kept until the page closes") : "no token"}</strong>
      </p>
      <form
        className="token-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!token.trim()) return;
          setControlToken(token.trim(), remember);
          setToken("");
          setHas(true);
          setSaved(true);
        }}
      >
        <label className="field">
          Token
          <input type="password" autoComplete="off" value={token} placeholder="obsc_…" onChange={(e) => { setToken(e.target.value); setSaved(false); }} />
        </label>
        <button type="submit" className="btn" disabled={!token.trim()}>
          {saved ? "Saved" : "Save"}
        </button>
      </form>
      <label className="check">
        <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
        Remember on this device
      </label>
      {has ? (
        <div className="actions">
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => {
              forgetControlToken();
              setHas(false);
              setSaved(false);
            }}
          >
            Forget token
          </button>
        </div>
      ) : null}
    </section>
  );
}

function Access() {
  useStore();
  const a = store.auth;
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  if (!a) return null;
  return (
    <section className="panel" aria-labelledby="access-h" data-testid="access">
      <h2 id="access-h">Access</h2>
      <p className="small">
        {a.token ? (
          <>
            Logged in with the {a.token.scope} token <strong>{a.token.name}</strong> <span className="muted">({a.token.id})</span>
            {a.local ? " on this machine" : ""}.
          </>
        ) : a.local ? (
          "This browser runs on the sink's machine: no login needed."
        ) : (
          "Not logged in."
        )}
        {!a.local && !a.remoteControl ? " Kill and restart are off from other machines." : ""}
      </p>
      {a.token ? (
        <button
          type="button"
          className="btn btn-quiet"
          disabled={busy}
          data-testid="logout"
          onClick={() => {
            setBusy(true);
            setErr(null);
            logout()
              .catch((e) => setErr(describeError(e)))
              .finally(() => setBusy(false));
          }}
        >
          {busy ? "Logging out…" : "Log out"}
        </button>
      ) : null}
      {err ? <Notice kind="error">{err}</Notice> : null}
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
      <Access />
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
