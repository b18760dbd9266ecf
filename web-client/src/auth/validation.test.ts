import { describe, expect, it } from "vitest";
import { fieldNamedIn, validateEmailSignIn, validateEmailSignUp, validateSignUp } from "./validation";

describe("validateSignUp", () => {
  it("accepts what the server accepts", () => {
    expect(validateSignUp({ username: "ana.b-c_1", displayName: "Ana", password: "12345678" })).toEqual({});
  });

  it("names each field that breaks a rule", () => {
    const errors = validateSignUp({ username: "a!", displayName: " ", password: "short" });
    expect(Object.keys(errors).sort()).toEqual(["displayName", "password", "username"]);
    expect(validateSignUp({ username: "x".repeat(33), displayName: "A", password: "12345678" }).username).toBeDefined();
    expect(validateSignUp({ username: "ok_name", displayName: "x".repeat(65), password: "12345678" }).displayName).toBeDefined();
    expect(validateSignUp({ username: "ok_name", displayName: "A", password: "x".repeat(257) }).password).toBeDefined();
  });

  it("treats usernames case-insensitively", () => {
    expect(validateSignUp({ username: "Ana", displayName: "Ana", password: "12345678" })).toEqual({});
  });
});

describe("fieldNamedIn", () => {
  it("finds the field a server message names", () => {
    expect(fieldNamedIn("displayName must be 1-64 characters", ["username", "displayName", "password"])).toBe(
      "displayName",
    );
    expect(fieldNamedIn("something else", ["username"])).toBeNull();
  });
});

describe("validateEmailSignIn", () => {
  it("asks for an address and a password", () => {
    expect(validateEmailSignIn({ email: " grace@example.com ", password: "x" })).toEqual({});
    expect(Object.keys(validateEmailSignIn({ email: "", password: "" })).sort()).toEqual(["email", "password"]);
    expect(validateEmailSignIn({ email: "grace", password: "x" }).email).toBe("Enter a valid email address.");
  });
});

describe("validateEmailSignUp", () => {
  it("accepts what Firebase accepts at the least", () => {
    expect(validateEmailSignUp({ displayName: "Grace", email: "grace@example.com", password: "123456" })).toEqual({});
  });

  it("names each field that breaks a rule", () => {
    const errors = validateEmailSignUp({ displayName: " ", email: "grace@", password: "12345" });
    expect(errors).toEqual({
      displayName: "Enter the name people will see.",
      email: "Enter a valid email address.",
      password: "Use at least 6 characters.",
    });
    expect(validateEmailSignUp({ displayName: "x".repeat(65), email: "a@b", password: "123456" }).displayName)
      .toBeDefined();
  });
});
