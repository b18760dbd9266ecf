import { describe, expect, it } from "vitest";
import { emulatorUrl, providersFrom } from "./providers";

const firebase = { projectId: "demo-parley", apiKey: "key", authDomain: "demo-parley.firebaseapp.com" };

describe("providersFrom", () => {
  it("offers local accounts only when the server lists them", () => {
    expect(providersFrom({ providers: ["local"] })).toEqual({ local: true, firebase: null });
    expect(providersFrom({ providers: ["firebase"], firebase })).toEqual({ local: false, firebase });
  });

  it("offers Firebase with the server's public config", () => {
    const withEmulator = { ...firebase, emulatorHost: "127.0.0.1:9099" };
    expect(providersFrom({ providers: ["firebase", "local"], firebase: withEmulator })).toEqual({
      local: true,
      firebase: withEmulator,
    });
  });

  it("leaves Firebase out when the server does not list it, even with a config", () => {
    expect(providersFrom({ providers: ["local"], firebase }).firebase).toBeNull();
  });

  it("leaves Firebase out when its config cannot initialise the SDK", () => {
    expect(providersFrom({ providers: ["firebase"] }).firebase).toBeNull();
    expect(providersFrom({ providers: ["firebase"], firebase: { ...firebase, apiKey: "" } }).firebase).toBeNull();
    expect(providersFrom({ providers: ["firebase"], firebase: { ...firebase, projectId: " " } }).firebase).toBeNull();
  });

  it("leaves Firebase out rather than sending a development server's sign-ins to Google", () => {
    const config = { ...firebase, emulatorHost: "http://127.0.0.1:9099/" };
    expect(providersFrom({ providers: ["firebase"], firebase: config }).firebase).toBeNull();
  });

  it("falls back to the project's default auth domain", () => {
    const { authDomain: _, ...withoutDomain } = firebase;
    expect(providersFrom({ providers: ["firebase"], firebase: { ...withoutDomain, authDomain: "" } }).firebase)
      .toMatchObject({ authDomain: "demo-parley.firebaseapp.com" });
  });

  it("copes with an answer that has no provider list", () => {
    expect(providersFrom({} as never)).toEqual({ local: false, firebase: null });
  });
});

describe("emulatorUrl", () => {
  it("is the http URL connectAuthEmulator expects", () => {
    expect(emulatorUrl("127.0.0.1:9099")).toBe("http://127.0.0.1:9099");
    expect(emulatorUrl("[::1]:9099")).toBe("http://[::1]:9099");
  });
});
