import { describe, expect, it } from "vitest";
import { mergeById } from "./usePeopleSearch";

const user = (userId: string, username = userId) => ({ userId, username, displayName: username.toUpperCase() });

describe("mergeById", () => {
  it("appends a later page, leaving out whoever an earlier page already listed", () => {
    const first = [user("u1", "pat"), user("u2", "patel")];
    const second = [user("u2", "patel"), user("u3", "patricia")];
    expect(mergeById(first, second).map((u) => u.username)).toEqual(["pat", "patel", "patricia"]);
  });

  it("keeps a page's own order and drops its repeats", () => {
    expect(mergeById([], [user("a"), user("b"), user("a")]).map((u) => u.userId)).toEqual(["a", "b"]);
  });
});
