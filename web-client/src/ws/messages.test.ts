import { describe, expect, it } from "vitest";
import { parseServerMessage } from "./messages";

describe("parseServerMessage", () => {
  it("reads a welcome", () => {
    const user = { userId: "u1", username: "ana", displayName: "Ana" };
    expect(parseServerMessage(JSON.stringify({ type: "welcome", sessionId: "s", user }))).toEqual({
      type: "welcome",
      sessionId: "s",
      user,
    });
  });

  it("reads errors and presence", () => {
    expect(parseServerMessage('{"type":"error","code":"session.active","message":"m"}')).toEqual({
      type: "error",
      code: "session.active",
      message: "m",
    });
    expect(parseServerMessage('{"type":"presence","userId":"u","status":"offline"}')).toEqual({
      type: "presence",
      userId: "u",
      status: "offline",
    });
  });

  it("ignores what it does not understand", () => {
    expect(parseServerMessage("not json")).toBeNull();
    expect(parseServerMessage("42")).toBeNull();
    expect(parseServerMessage('{"type":"welcome"}')).toBeNull();
    expect(parseServerMessage('{"type":"presence","userId":"u","status":"asleep"}')).toBeNull();
    expect(parseServerMessage('{"type":"something.new"}')).toBeNull();
  });
});
