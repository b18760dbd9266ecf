import { describe, expect, it } from "vitest";
import { ApiError, createApiClient } from "../api/client";
import { type FirebaseIdentity, FirebaseLoadError, FirebaseSignIn, describeFirebaseError } from "./firebase";

const config = { projectId: "demo-parley", apiKey: "key", authDomain: "demo-parley.firebaseapp.com" };
const signedIn = { userId: "u1", username: "grace", displayName: "Grace Hopper", token: "parley-token" };

/** A Firebase error as the SDK throws it: an Error with an auth/… code. */
function firebaseError(code: string): Error {
  return Object.assign(new Error(`Firebase: Error (${code}).`), { code });
}

function gatewayAnswering(status: number, body: unknown) {
  const calls: { url: string; body: unknown }[] = [];
  const api = createApiClient({
    token: () => null,
    fetch: async (url, init) => {
      calls.push({ url, body: JSON.parse(String(init?.body)) });
      return new Response(JSON.stringify(body), { status });
    },
  });
  return { api, calls };
}

function identity(overrides: Partial<FirebaseIdentity> = {}): FirebaseIdentity {
  return {
    signInWithEmail: async (email, password) => `email:${email}:${password}`,
    signUpWithEmail: async (email, password, displayName) => `sign-up:${email}:${password}:${displayName}`,
    signInWithGoogle: async () => "google",
    currentIdToken: async () => "current-id-token",
    signOut: async () => undefined,
    ...overrides,
  };
}

describe("FirebaseSignIn", () => {
  it("sends the Firebase ID token to the gateway and returns the Parley sign-in", async () => {
    const { api, calls } = gatewayAnswering(200, signedIn);
    const firebase = new FirebaseSignIn(api, config, async () => identity());

    await expect(firebase.signIn({ kind: "email", email: "grace@example.com", password: "secret1" })).resolves.toEqual(
      signedIn,
    );
    expect(calls).toEqual([{ url: "/api/auth/firebase", body: { idToken: "email:grace@example.com:secret1" } }]);
  });

  it("uses the method asked for", async () => {
    const { api, calls } = gatewayAnswering(200, signedIn);
    const firebase = new FirebaseSignIn(api, config, async () => identity());
    await firebase.signIn({ kind: "google" });
    await firebase.signIn({ kind: "email-sign-up", email: "a@b.c", password: "secret1", displayName: "Ada" });
    expect(calls.map((call) => call.body)).toEqual([{ idToken: "google" }, { idToken: "sign-up:a@b.c:secret1:Ada" }]);
  });

  it("loads the SDK once, with the server's config, and only when asked", async () => {
    const { api } = gatewayAnswering(200, signedIn);
    const loads: unknown[] = [];
    const firebase = new FirebaseSignIn(api, config, async (c) => {
      loads.push(c);
      return identity();
    });
    expect(loads).toEqual([]);
    firebase.preload();
    await firebase.signIn({ kind: "google" });
    await firebase.signIn({ kind: "google" });
    expect(loads).toEqual([config]);
  });

  it("tries loading the SDK again after a failed load", async () => {
    const { api } = gatewayAnswering(200, signedIn);
    let attempts = 0;
    const firebase = new FirebaseSignIn(api, config, async () => {
      attempts += 1;
      if (attempts === 1) throw new FirebaseLoadError();
      return identity();
    });
    await expect(firebase.signIn({ kind: "google" })).rejects.toBeInstanceOf(FirebaseLoadError);
    await expect(firebase.signIn({ kind: "google" })).resolves.toEqual(signedIn);
  });

  it("does not ask the gateway when Firebase refuses", async () => {
    const { api, calls } = gatewayAnswering(200, signedIn);
    const refusing = identity({ signInWithEmail: () => Promise.reject(firebaseError("auth/invalid-credential")) });
    const firebase = new FirebaseSignIn(api, config, async () => refusing);
    await expect(firebase.signIn({ kind: "email", email: "a@b.c", password: "nope" })).rejects.toMatchObject({
      code: "auth/invalid-credential",
    });
    expect(calls).toEqual([]);
  });

  it("passes on the gateway's refusal", async () => {
    const disabled = { code: "auth.invalid", message: "This Firebase account is disabled" };
    const { api } = gatewayAnswering(401, { error: disabled });
    const firebase = new FirebaseSignIn(api, config, async () => identity());
    const error = await firebase.signIn({ kind: "google" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(describeFirebaseError(error)).toBe("This Firebase account is disabled.");
  });
});

describe("describeFirebaseError", () => {
  it("says a wrong email or password the same way, whichever Firebase reports", () => {
    for (const code of ["auth/invalid-credential", "auth/wrong-password", "auth/user-not-found"]) {
      expect(describeFirebaseError(firebaseError(code))).toBe("That email and password don't match an account.");
    }
  });

  it("explains a disabled account, too many attempts and an unreachable Firebase", () => {
    expect(describeFirebaseError(firebaseError("auth/user-disabled"))).toMatch(/disabled/);
    expect(describeFirebaseError(firebaseError("auth/too-many-requests"))).toMatch(/Too many attempts/);
    expect(describeFirebaseError(firebaseError("auth/network-request-failed"))).toMatch(/can't be reached/);
    expect(describeFirebaseError(firebaseError("auth/internal-error"))).toMatch(/Check your connection/);
  });

  it("says nothing when the person closed the Google window", () => {
    expect(describeFirebaseError(firebaseError("auth/popup-closed-by-user"))).toBeNull();
    expect(describeFirebaseError(firebaseError("auth/cancelled-popup-request"))).toBeNull();
  });

  it("recognises a bad API key by the code's prefix", () => {
    const code = "auth/api-key-not-valid.-please-pass-a-valid-api-key.";
    expect(describeFirebaseError(firebaseError(code))).toBe("Firebase sign-in is not set up correctly on this server.");
  });

  it("names a code it has no words for", () => {
    expect(describeFirebaseError(firebaseError("auth/quota-exceeded"))).toBe(
      "Firebase sign-in failed (quota-exceeded). Try again.",
    );
  });

  it("gives the gateway's reason for refusing a token, and for Firebase being unavailable", () => {
    const revoked = new ApiError(401, "auth.invalid", "Your Firebase sign-in was revoked; sign in again");
    expect(describeFirebaseError(revoked)).toBe("Your Firebase sign-in was revoked; sign in again.");
    const reason = "Firebase cannot be reached right now; try again shortly";
    expect(describeFirebaseError(new ApiError(503, "auth.unavailable", reason))).toBe(`${reason}.`);
  });

  it("uses the usual words for other gateway answers", () => {
    expect(describeFirebaseError(new ApiError(429, "rate_limited", "slow down"))).toBe(
      "Too many attempts. Wait a minute and try again.",
    );
  });

  it("tells the person to reload when the SDK could not be fetched", () => {
    expect(describeFirebaseError(new FirebaseLoadError())).toMatch(/Reload the page/);
  });

  it("has a fallback for anything else", () => {
    expect(describeFirebaseError(new Error("boom"))).toBe("Something went wrong. Try again.");
  });
});
