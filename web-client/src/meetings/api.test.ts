import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { createMeetingsApi } from "./api";

function fakeFetch(status: number, body: unknown) {
  const requests: Array<{ url: string; init?: RequestInit }> = [];
  const fetch = async (url: string, init?: RequestInit) => {
    requests.push({ url, init });
    return new Response(status === 204 ? null : JSON.stringify(body), { status });
  };
  return { fetch, requests };
}

describe("createMeetingsApi", () => {
  it("pages history with before/after and reads the messages", async () => {
    const { fetch, requests } = fakeFetch(200, {
      messages: [{ messageId: "2-0", senderId: null, senderName: "", text: "Ann joined", sentAt: 2, clientMsgId: null, system: true }],
      hasMore: true,
    });
    const api = createMeetingsApi({ token: () => "tok", fetch });
    const page = await api.history("m 1", { before: "3-0", limit: 50 });
    expect(requests[0].url).toBe("/api/meetings/m%201/messages?before=3-0&limit=50");
    expect((requests[0].init?.headers as Record<string, string>).Authorization).toBe("Bearer tok");
    expect(page).toEqual({
      messages: [{ messageId: "2-0", senderId: null, senderName: "", text: "Ann joined", sentAt: 2, clientMsgId: null, system: true }],
      hasMore: true,
    });
  });

  it("turns an expired invite into an ApiError with its code", async () => {
    const { fetch } = fakeFetch(404, { error: { code: "invite.invalid", message: "This invite has expired" } });
    const api = createMeetingsApi({ token: () => "tok", fetch });
    await expect(api.acceptInvite("t")).rejects.toEqual(new ApiError(404, "invite.invalid", "This invite has expired"));
  });

  it("reads an idle call as inactive", async () => {
    const { fetch } = fakeFetch(200, { meetingId: "m1", active: false, startedAt: 0, participants: [] });
    expect(await createMeetingsApi({ token: () => null, fetch }).call("m1")).toEqual({
      meetingId: "m1",
      active: false,
      startedAt: 0,
      participants: [],
    });
  });
});
