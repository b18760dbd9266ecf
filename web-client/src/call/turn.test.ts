import { describe, expect, it } from "vitest";
import type { ClientMessage } from "../ws/messages";
import { FakeServer, serverMessage } from "../ws/testing";
import { credentialsExpireAt, freshIceServers, needsFreshCredentials, turnRefreshMarginMs } from "./turn";

const iceServersOf = (name: "callJoined" | "callJoinedResumed") => {
  const message = serverMessage(name);
  if (message.type !== "call.joined") throw new Error(name);
  return message.iceServers;
};

describe("TURN credential renewal", () => {
  it("reads the expiry from the TURN REST username the gateway hands out", () => {
    expect(credentialsExpireAt(iceServersOf("callJoined"))).toBe(1_700_000_600_000);
    expect(credentialsExpireAt(iceServersOf("callJoinedResumed"))).toBeNull();
    expect(credentialsExpireAt([{ urls: "stun:example.org" }, { urls: "turn:x", username: "1700000900:u1", credential: "c" }, { urls: "turn:y", username: "1700000300:u1", credential: "c" }])).toBe(1_700_000_300_000);
  });

  it("renews only credentials that expire within the margin", () => {
    const servers = iceServersOf("callJoined");
    expect(needsFreshCredentials(servers, 1_700_000_600_000 - turnRefreshMarginMs - 1)).toBe(false);
    expect(needsFreshCredentials(servers, 1_700_000_600_000 - turnRefreshMarginMs + 1)).toBe(true);
    expect(needsFreshCredentials(servers, 1_700_000_700_000)).toBe(true);
    expect(needsFreshCredentials([], 1_700_000_700_000)).toBe(false);
  });

  it("asks call.turn near the expiry and uses the answer", async () => {
    const server = new FakeServer();
    const sent: ClientMessage[] = [];
    const request = (m: ClientMessage) => (sent.push(m), server.request(m));
    const servers = iceServersOf("callJoined");

    await expect(freshIceServers(servers, "m1", request, 1_700_000_000_000)).resolves.toBe(servers);
    expect(sent).toEqual([]);

    const fresh = freshIceServers(servers, "m1", request, 1_700_000_400_000);
    expect(sent).toEqual([{ type: "call.turn", meetingId: "m1" }]);
    server.answer("call.turn", "callTurn");
    const renewed = await fresh;
    expect(renewed).toEqual([{ urls: ["turn:127.0.0.1:3478?transport=udp"], username: "1700007200:u1", credential: "ZnJlc2g=" }]);
    expect(needsFreshCredentials(renewed, 1_700_000_400_000)).toBe(false);
  });

  it("keeps the old credentials when the server refuses (not in the call, rate limited)", async () => {
    const server = new FakeServer();
    const servers = iceServersOf("callJoined");
    for (const refusal of ["callTurnNotJoined", "callTurnLimited"] as const) {
      const fresh = freshIceServers(servers, "m1", (m) => server.request(m), 1_700_000_700_000);
      server.answer("call.turn", refusal);
      await expect(fresh).resolves.toBe(servers);
    }
  });
});
