import { describe, expect, it } from "vitest";
import { RequestError, maxPendingRequests } from "./requests";
import { FakeServer, serverMessage } from "./testing";

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as RequestError;
  }
  throw new Error("the request did not fail");
};

describe("Requests", () => {
  it("gives every request its own id and resolves it with the answer that echoes that id", async () => {
    const server = new FakeServer();
    const first = server.request({ type: "call.join", meetingId: "m1" });
    const second = server.request({ type: "chat.typing", meetingId: "m1" });
    expect(server.sent.map((m) => m.id)).toEqual(["r1", "r2"]);
    // Answered out of order: each goes to its own request.
    expect(server.answer("chat.typing", "ok")).toBe(true);
    expect(server.answer("call.join", "callJoined")).toBe(true);
    expect(await first).toMatchObject({ type: "call.joined", re: "r1", endpointId: "e1" });
    expect(await second).toEqual({ type: "ok", re: "r2" });
  });

  it("rejects with the server's error code and message when the answer is an error", async () => {
    const server = new FakeServer();
    const join = server.request({ type: "call.join", meetingId: "m1" });
    server.answer("call.join", "callJoinRefused");
    const error = await rejection(join);
    expect(error).toBeInstanceOf(RequestError);
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("The media server is full; try again later");
  });

  it("leaves events and answers to no waiting request to the listeners", () => {
    const server = new FakeServer();
    expect(server.requests.settle(serverMessage("callState"))).toBe(false);
    expect(server.requests.settle(serverMessage("ok", { re: "r99" }))).toBe(false);
  });

  it("fails at once when the socket is not open, and fails what waits when it closes", async () => {
    const server = new FakeServer();
    const waiting = server.request({ type: "call.join", meetingId: "m1" });
    server.disconnect();
    expect((await rejection(waiting)).code).toBe("disconnected");
    expect((await rejection(server.request({ type: "call.leave", meetingId: "m1" }))).code).toBe("disconnected");
    expect(server.requests.size).toBe(0);
  });

  it("fails a request that gets no answer in time, and ignores the answer that comes later", async () => {
    const server = new FakeServer();
    const join = server.request({ type: "call.join", meetingId: "m1" }, 5_000);
    server.expireRequests();
    expect((await rejection(join)).code).toBe("timeout");
    expect(server.answer("call.join", "callJoined")).toBe(false);
  });

  it("refuses more than its limit of requests waiting at once", async () => {
    const server = new FakeServer();
    for (let i = 0; i < maxPendingRequests; i++) void server.request({ type: "chat.typing", meetingId: "m1" }).catch(() => undefined);
    expect((await rejection(server.request({ type: "chat.typing", meetingId: "m1" }))).code).toBe("too_many_requests");
    server.disconnect();
  });
});
