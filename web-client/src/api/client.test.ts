import { describe, expect, it } from "vitest";
import { ApiError, createApiClient, describeAuthError } from "./client";

interface Call {
  url: string;
  init?: RequestInit;
}

function clientAnswering(status: number, body: unknown, token: string | null = null) {
  const calls: Call[] = [];
  const api = createApiClient({
    token: () => token,
    fetch: async (url, init) => {
      calls.push({ url, init });
      return new Response(body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body), {
        status,
      });
    },
  });
  return { api, calls };
}

describe("api client", () => {
  it("registers with a JSON body and no token", async () => {
    const result = { userId: "u1", username: "ana", displayName: "Ana", token: "t" };
    const { api, calls } = clientAnswering(201, result, "old");
    await expect(api.register("ana", "password1", "Ana")).resolves.toEqual(result);
    expect(calls[0].url).toBe("/api/auth/register");
    expect(calls[0].init?.method).toBe("POST");
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({
      username: "ana",
      password: "password1",
      displayName: "Ana",
    });
    expect((calls[0].init?.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it("sends the bearer token where the API needs it", async () => {
    const { api, calls } = clientAnswering(200, { users: [] }, "tok");
    await expect(api.users()).resolves.toEqual([]);
    expect((calls[0].init?.headers as Record<string, string>).Authorization).toBe("Bearer tok");
  });

  it("resolves a 204 logout", async () => {
    const { api } = clientAnswering(204, undefined, "tok");
    await expect(api.logout()).resolves.toBeUndefined();
  });

  it("turns the error body into an ApiError with the server's code", async () => {
    const { api } = clientAnswering(409, { error: { code: "username.taken", message: "Username is taken" } });
    const error = await api.register("ana", "password1", "Ana").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: "username.taken", message: "Username is taken" });
  });

  it("copes with an error that has no JSON body", async () => {
    const { api } = clientAnswering(502, "<html>Bad gateway</html>");
    await expect(api.me()).rejects.toMatchObject({ status: 502, code: "http.502" });
  });

  it("reports an unreachable server as a network error", async () => {
    const api = createApiClient({
      token: () => null,
      fetch: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    await expect(api.login("ana", "x")).rejects.toMatchObject({ status: 0, code: "network" });
  });

  it("explains auth errors in plain words", () => {
    expect(describeAuthError(new ApiError(401, "auth.invalid", "Invalid credentials"))).toBe(
      "That username and password don't match an account.",
    );
    expect(describeAuthError(new ApiError(429, "rate_limited", "slow down"))).toMatch(/Too many attempts/);
    const wait = "Too many failed sign-in attempts; try again in 8 seconds";
    expect(describeAuthError(new ApiError(429, "rate_limited", wait))).toBe(wait);
    expect(describeAuthError(new Error("boom"))).toBe("Something went wrong. Try again.");
  });
});
