// Short-lived messages at the bottom of the screen (control outcomes).

import { useSyncExternalStore } from "react";

export interface Toast {
  id: number;
  kind: "ok" | "error" | "info";
  text: string;
}

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit(): void {
  for (const fn of Array.from(listeners)) fn();
}

export function dismissToast(id: number): void {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

export function showToast(text: string, kind: Toast["kind"] = "ok", ms = 8000): void {
  const id = nextId++;
  toasts = [...toasts.slice(-2), { id, kind, text }];
  emit();
  setTimeout(() => dismissToast(id), ms);
}

export function useToasts(): Toast[] {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => toasts,
  );
}
