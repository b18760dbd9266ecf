// The one way the app keeps state that React renders: a value, replaced (never changed in place) by `set`,
// with subscribers told of each change; `useStore` renders it through React's useSyncExternalStore.
import { useSyncExternalStore } from "react";

export interface ReadableStore<T> {
  get(): T;
  /** Calls the listener after every change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

export interface Store<T> extends ReadableStore<T> {
  /** Replaces the value; listeners hear of it unless it is the same value (Object.is). */
  set(value: T): void;
  update(change: (current: T) => T): void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  const set = (next: T): void => {
    if (Object.is(next, value)) return;
    value = next;
    for (const listener of [...listeners]) listener();
  };
  return {
    get: () => value,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    set,
    update: (change) => set(change(value)),
  };
}

/** The store's value, rendering again whenever it changes. */
export function useStore<T>(store: ReadableStore<T>): T {
  return useSyncExternalStore(store.subscribe, store.get);
}
