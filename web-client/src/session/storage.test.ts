import { describe, expect, it } from "vitest";
import { AuthStore, type KeyValueStorage, sessionIdStore } from "./storage";

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

describe("AuthStore", () => {
  it("keeps the token and the user between page loads", () => {
    const storage = memoryStorage();
    new AuthStore(storage).save({ userId: "u1", username: "ana", displayName: "Ana", token: "t" });
    expect(new AuthStore(storage).load()).toEqual({
      token: "t",
      user: { userId: "u1", username: "ana", displayName: "Ana" },
    });
  });

  it("treats damaged or missing data as signed out", () => {
    const storage = memoryStorage();
    expect(new AuthStore(storage).load()).toBeNull();
    storage.setItem("parley.auth", "{not json");
    expect(new AuthStore(storage).load()).toBeNull();
    storage.setItem("parley.auth", JSON.stringify({ token: 5 }));
    expect(new AuthStore(storage).load()).toBeNull();
  });

  it("forgets everything on clear", () => {
    const storage = memoryStorage();
    const store = new AuthStore(storage);
    store.save({ userId: "u1", username: "ana", displayName: "Ana", token: "t" });
    store.clear();
    expect(store.load()).toBeNull();
  });
});

describe("sessionIdStore", () => {
  it("keeps the tab's session id apart from the sign-in", () => {
    const storage = memoryStorage();
    const ids = sessionIdStore(storage);
    ids.set("s-1");
    expect(ids.get()).toBe("s-1");
    expect(storage.data.has("parley.auth")).toBe(false);
    ids.clear();
    expect(ids.get()).toBeNull();
  });
});
