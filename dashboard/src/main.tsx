import { createRoot } from "react-dom/client";
import "./styles.css";
import { App } from "./components/App";
import { bootstrap } from "./auth";
import { navigate } from "./router";
import { store } from "./store";
import { applyTheme, loadTheme } from "./theme";

applyTheme(loadTheme());

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((e) => console.warn("service worker:", e));
  // A page that was already controlled and gets a new controller runs an old build: offer a reload.
  const hadController = navigator.serviceWorker.controller !== null;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!hadController) return;
    store.updateAvailable = true;
    store.changed();
  });
  // notificationclick in the service worker asks an open window to show the alert's page.
  navigator.serviceWorker.addEventListener("message", (e: MessageEvent) => {
    const d = e.data as { type?: string; url?: string } | null;
    if (d && d.type === "navigate" && typeof d.url === "string") navigate(d.url);
  });
}

void bootstrap();
createRoot(document.getElementById("root")!).render(<App />);
