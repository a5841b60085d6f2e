import { createRoot } from "react-dom/client";
import "./styles.css";
import { App } from "./components/App";
import { liveLink } from "./live";
import { navigate } from "./router";
import { applyTheme, loadTheme } from "./theme";

applyTheme(loadTheme());

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((e) => console.warn("service worker:", e));
  // notificationclick in the service worker asks an open window to show the alert's page.
  navigator.serviceWorker.addEventListener("message", (e: MessageEvent) => {
    const d = e.data as { type?: string; url?: string } | null;
    if (d && d.type === "navigate" && typeof d.url === "string") navigate(d.url);
  });
}

liveLink.start();
createRoot(document.getElementById("root")!).render(<App />);
