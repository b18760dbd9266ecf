// The sign-in methods a server offers, read from GET /api/auth/config.
import type { AuthConfig, FirebaseWebConfig } from "../api/client";

export interface AuthProviders {
  /** Username-and-password accounts kept by Parley. */
  local: boolean;
  /** Firebase Authentication (Google, email and password), or null when the server does not offer it. */
  firebase: FirebaseWebConfig | null;
}

/** What the sign-in page offers when the server cannot be asked: the server still has the last word. */
export const fallbackProviders: AuthProviders = { local: true, firebase: null };

const emulatorHostPattern = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

/**
 * The providers in a config answer. Firebase counts only when it is listed and its public config is usable, so a
 * half-configured server shows no Firebase buttons that could only fail.
 */
export function providersFrom(config: AuthConfig): AuthProviders {
  const listed = Array.isArray(config.providers) ? config.providers : [];
  return {
    local: listed.includes("local"),
    firebase: listed.includes("firebase") ? firebaseConfigFrom(config.firebase) : null,
  };
}

function firebaseConfigFrom(raw: unknown): FirebaseWebConfig | null {
  if (!raw || typeof raw !== "object") return null;
  const value = raw as Record<string, unknown>;
  const projectId = nonEmptyString(value.projectId);
  const apiKey = nonEmptyString(value.apiKey);
  if (!projectId || !apiKey) return null;
  const config: FirebaseWebConfig = {
    projectId,
    apiKey,
    // Firebase's default hosting domain, which every project has.
    authDomain: nonEmptyString(value.authDomain) ?? `${projectId}.firebaseapp.com`,
  };
  const emulatorHost = nonEmptyString(value.emulatorHost);
  if (emulatorHost) {
    // Better no Firebase at all than a development server's sign-ins sent to Google.
    if (!emulatorHostPattern.test(emulatorHost)) return null;
    config.emulatorHost = emulatorHost;
  }
  return config;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value.trim() : null;
}

/** The URL connectAuthEmulator takes for an emulator host (host:port). */
export function emulatorUrl(emulatorHost: string): string {
  return `http://${emulatorHost}`;
}
