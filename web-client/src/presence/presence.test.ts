import { describe, expect, it } from "vitest";
import { applyPresence, initials, peopleRows } from "./presence";

const users = [
  { userId: "3", username: "zoe", displayName: "Zoe" },
  { userId: "1", username: "me", displayName: "Myself" },
  { userId: "2", username: "bob", displayName: "Bob" },
  { userId: "4", username: "amy", displayName: "Amy" },
];

describe("peopleRows", () => {
  it("puts yourself first, then who is online, then the rest by name", () => {
    let presence = applyPresence(new Map(), "3", "online");
    presence = applyPresence(presence, "2", "offline");
    const rows = peopleRows(users, presence, "1");
    expect(rows.map((r) => [r.user.username, r.status, r.isSelf])).toEqual([
      ["me", "unknown", true],
      ["zoe", "online", false],
      ["bob", "offline", false],
      ["amy", "unknown", false],
    ]);
  });

  it("filters by display name or username", () => {
    expect(peopleRows(users, new Map(), "1", "BO").map((r) => r.user.username)).toEqual(["bob"]);
    expect(peopleRows(users, new Map(), "1", "zo").map((r) => r.user.username)).toEqual(["zoe"]);
  });
});

describe("applyPresence", () => {
  it("keeps the same map when nothing changes", () => {
    const map = applyPresence(new Map(), "1", "online");
    expect(applyPresence(map, "1", "online")).toBe(map);
    expect(applyPresence(map, "1", "offline").get("1")).toBe("offline");
  });
});

describe("initials", () => {
  it("takes the first letters of two words, or two letters of one", () => {
    expect(initials("Ada Lovelace")).toBe("AL");
    expect(initials("grace")).toBe("GR");
    expect(initials("  ")).toBe("?");
  });
});
