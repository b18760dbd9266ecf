import { describe, expect, it } from "vitest";
import { meetingPath, routeOf } from "./router";

describe("routeOf", () => {
  it("knows the signed-in app's screens", () => {
    expect(routeOf("/")).toEqual({ kind: "people" });
    expect(routeOf("/meetings")).toEqual({ kind: "meetings", meetingId: null });
    expect(routeOf(meetingPath("m-1"))).toEqual({ kind: "meetings", meetingId: "m-1" });
    expect(routeOf("/invite/abc_DEF-1")).toEqual({ kind: "invite", token: "abc_DEF-1" });
    expect(routeOf("/nowhere/else")).toEqual({ kind: "other" });
  });
});
