import { useMemo } from "react";
import { isFiringAlert, store, useStore } from "../store";
import { onLinkClick, useRoute, type Route } from "../router";
import { effectiveTheme } from "../theme";
import { AgentsView } from "./AgentsView";
import { AlertsView } from "./AlertsView";
import { ConnectionIndicator, Icon, Toasts } from "./common";
import { LoginView } from "./LoginView";
import { SessionDetail } from "./SessionDetail";
import { SessionsView } from "./SessionsView";
import { SettingsView, useTheme } from "./SettingsView";

type Tab = { key: string; path: string; label: string; icon: string; badge?: number };

function Nav({ route, tabs }: { route: Route; tabs: Tab[] }) {
  const current = route.name === "session" ? "sessions" : route.name;
  return (
    <nav className="nav" aria-label="Main">
      <div className="brand">
        <img src="/icons/icon-192.png" alt="" width={28} height={28} />
        <span>Observatory</span>
      </div>
      <ul>
        {tabs.map((t) => (
          <li key={t.key}>
            <a href={t.path} className={`nav-item${current === t.key ? " nav-on" : ""}`} aria-current={current === t.key ? "page" : undefined} onClick={(e) => onLinkClick(e, t.path)} data-testid={`tab-${t.key}`}>
              <Icon name={t.icon} className="nav-icon" />
              <span className="nav-label">{t.label}</span>
              {t.badge ? <span className="nav-badge">{t.badge}</span> : null}
            </a>
          </li>
        ))}
      </ul>
      <div className="nav-foot">
        <ConnectionIndicator />
      </div>
    </nav>
  );
}

export function App() {
  const version = useStore();
  const route = useRoute();
  const [theme, setTheme] = useTheme();
  const { attention, activeAlerts } = useMemo(() => {
    let attention = 0;
    for (const s of store.sessions.values()) if (s.status === "waiting" || s.status === "crashed") attention++;
    let activeAlerts = 0;
    for (const a of store.alerts.values()) if (isFiringAlert(a) && !a.acknowledged) activeAlerts++;
    return { attention, activeAlerts };
  }, [version]);
  const tabs: Tab[] = [
    { key: "sessions", path: "/", label: "Sessions", icon: "sessions", badge: attention },
    { key: "alerts", path: "/alerts", label: "Alerts", icon: "alerts", badge: activeAlerts },
    { key: "agents", path: "/agents", label: "Agents", icon: "agents" },
    { key: "settings", path: "/settings", label: "Settings", icon: "settings" },
  ];
  const dark = effectiveTheme(theme) === "dark";
  if (store.booting) return <p className="boot">Loading the Observatory…</p>;
  if (store.loginRequired) {
    return (
      <>
        <LoginView />
        <Toasts />
      </>
    );
  }
  return (
    <div className="app">
      <header className="topbar">
        <span className="topbar-title">Observatory</span>
        <ConnectionIndicator />
        <button type="button" className="icon-btn" aria-label={dark ? "Switch to light mode" : "Switch to dark mode"} onClick={() => setTheme(dark ? "light" : "dark")} data-testid="theme-toggle">
          <Icon name={dark ? "sun" : "moon"} />
        </button>
      </header>
      <Nav route={route} tabs={tabs} />
      <main className="main" id="main">
        {store.updateAvailable ? (
          <div className="update-banner" role="status">
            <span>A new version of the dashboard is available.</span>
            <button type="button" className="btn btn-primary" onClick={() => location.reload()}>
              Reload
            </button>
          </div>
        ) : null}
        {route.name === "sessions" ? <SessionsView /> : null}
        {route.name === "session" ? <SessionDetail id={route.id} key={route.id} /> : null}
        {route.name === "alerts" ? <AlertsView focus={route.focus} /> : null}
        {route.name === "agents" ? <AgentsView /> : null}
        {route.name === "settings" ? <SettingsView theme={theme} setTheme={setTheme} /> : null}
      </main>
      <Toasts />
    </div>
  );
}
