import { describe, expect, it } from "vitest";
import { createStore } from "./store";

describe("createStore", () => {
  it("tells each subscriber of a new value until it unsubscribes", () => {
    const count = createStore(0);
    const heard: number[] = [];
    const stop = count.subscribe(() => heard.push(count.get()));
    count.set(1);
    count.update((n) => n + 1);
    stop();
    count.set(3);
    expect(heard).toEqual([1, 2]);
    expect(count.get()).toBe(3);
  });

  it("stays quiet when set to the value it already holds", () => {
    const snapshot = { phase: "joining" };
    const store = createStore(snapshot);
    let calls = 0;
    store.subscribe(() => (calls += 1));
    store.set(snapshot);
    expect(calls).toBe(0);
  });

  it("tells every listener of a change, even one that another unsubscribes meanwhile", () => {
    const store = createStore("a");
    const heard: string[] = [];
    let stopSecond = () => undefined as void;
    store.subscribe(() => {
      heard.push("first");
      stopSecond();
    });
    stopSecond = store.subscribe(() => heard.push("second"));
    store.set("b");
    store.set("c");
    expect(heard).toEqual(["first", "second", "first"]);
  });
});
