import { describe, expect, it } from "vitest";
import { createApiClient } from "../api/client";
import { changePassword, explainPasswordChangeFailure, validatePasswordChange } from "./passwordChange";

/** The gateway's answers to POST /api/auth/password (AuthRoutes and AuthService). */
const answers = {
  changed: { status: 200, body: { userId: "u1", username: "ana", displayName: "Ana", token: "fresh.token" } },
  wrongCurrent: { status: 403, body: { error: { code: "forbidden", message: "The current password is wrong" } } },
  limited: { status: 429, body: { error: { code: "rate_limited", message: "Too many password changes; try again in 60 minutes" } } },
  shortPassword: { status: 400, body: { error: { code: "bad_request", message: "password must be 8-256 characters" } } },
  firebase: {
    status: 400,
    body: { error: { code: "bad_request", message: "This account signs in with Firebase; change its password there" } },
  },
  expired: {
    status: 401,
    body: { error: { code: "auth.invalid", message: "Your sign-in has expired or is not valid; sign in again" } },
  },
};

function apiAnswering(answer: { status: number; body: unknown }) {
  const requests: Array<{ url: string; init?: RequestInit }> = [];
  const api = createApiClient({
    token: () => "old.token",
    fetch: async (url, init) => {
      requests.push({ url, init });
      return new Response(JSON.stringify(answer.body), { status: answer.status });
    },
  });
  return { api, requests };
}

const fields = { currentPassword: "correct horse", newPassword: "battery staple", confirmation: "battery staple" };

describe("changing the password", () => {
  it("checks the fields as sign-up does, and the confirmation", () => {
    expect(validatePasswordChange(fields)).toEqual({});
    expect(validatePasswordChange({ currentPassword: "", newPassword: "short", confirmation: "short" })).toEqual({
      currentPassword: "Enter your current password.",
      newPassword: "Use at least 8 characters.",
    });
    expect(validatePasswordChange({ ...fields, newPassword: "x".repeat(257), confirmation: "x".repeat(257) })).toEqual({
      newPassword: "Use at most 256 characters.",
    });
    expect(validatePasswordChange({ ...fields, confirmation: "battery stapler" })).toEqual({
      confirmation: "The two new passwords don't match.",
    });
  });

  it("sends both passwords and this tab's session id, and hands the fresh token on", async () => {
    const { api, requests } = apiAnswering(answers.changed);
    const renewed: string[] = [];
    await changePassword(api, fields, "g0a1b2c3d4e5f.5f3c", (token) => renewed.push(token));
    expect(requests[0].url).toBe("/api/auth/password");
    expect(requests[0].init?.method).toBe("POST");
    expect((requests[0].init?.headers as Record<string, string>).Authorization).toBe("Bearer old.token");
    expect(JSON.parse(String(requests[0].init?.body))).toEqual({
      currentPassword: "correct horse",
      newPassword: "battery staple",
      keepSessionId: "g0a1b2c3d4e5f.5f3c",
    });
    expect(renewed).toEqual(["fresh.token"]);
  });

  it("omits the session id when the socket is not open", async () => {
    const { api, requests } = apiAnswering(answers.changed);
    await changePassword(api, fields, null, () => undefined);
    expect(JSON.parse(String(requests[0].init?.body))).toEqual({ currentPassword: "correct horse", newPassword: "battery staple" });
  });

  it("explains each refusal where it belongs and keeps the token", async () => {
    const failureOf = async (answer: { status: number; body: unknown }) => {
      const renewed: string[] = [];
      const error = await changePassword(apiAnswering(answer).api, fields, "s1", (t) => renewed.push(t)).catch((e: unknown) => e);
      expect(renewed).toEqual([]);
      return explainPasswordChangeFailure(error);
    };
    expect(await failureOf(answers.wrongCurrent)).toEqual({ field: "currentPassword", message: "That isn't your current password." });
    expect(await failureOf(answers.limited)).toEqual({ field: null, message: "Too many password changes; try again in 60 minutes" });
    expect(await failureOf(answers.shortPassword)).toEqual({ field: "newPassword", message: "The new password must be 8-256 characters." });
    expect(await failureOf(answers.firebase)).toEqual({
      field: null,
      message: "This account signs in with Firebase; change its password there",
    });
    expect(await failureOf(answers.expired)).toEqual({
      field: null,
      message: "Your sign-in has ended. Sign in again to change your password.",
    });
  });
});
