// Signing in to Parley through Firebase Authentication: the Firebase SDK proves who the person is, the gateway
// exchanges the Firebase ID token for a Parley token, and from there the app goes on exactly as after a local
// sign-in. Nothing here imports the SDK itself: it is a separate chunk, fetched only from servers that offer Firebase.
import { ApiError, type ApiClient, type AuthResult, type FirebaseWebConfig, describeAuthError } from "../api/client";

/** The ways to prove who one is to Firebase; each resolves with a fresh Firebase ID token. */
export interface FirebaseIdentity {
  signInWithEmail(email: string, password: string): Promise<string>;
  signUpWithEmail(email: string, password: string, displayName: string): Promise<string>;
  signInWithGoogle(): Promise<string>;
  /** A valid ID token of the Firebase user signed in on this browser (fresh if need be), or null if none is. */
  currentIdToken(): Promise<string | null>;
  signOut(): Promise<void>;
}

export type FirebaseIdentityLoader = (config: FirebaseWebConfig) => Promise<FirebaseIdentity>;

export type FirebaseMethod =
  | { kind: "google" }
  | { kind: "email"; email: string; password: string }
  | { kind: "email-sign-up"; email: string; password: string; displayName: string };

/** The Firebase SDK could not be fetched (the chunk failed to load). */
export class FirebaseLoadError extends Error {
  constructor() {
    super("Firebase sign-in could not be loaded. Reload the page and try again.");
    this.name = "FirebaseLoadError";
  }
}

export const loadFirebaseIdentity: FirebaseIdentityLoader = async (config) => {
  let sdk: typeof import("./firebaseSdk");
  try {
    sdk = await import("./firebaseSdk");
  } catch {
    throw new FirebaseLoadError();
  }
  return sdk.firebaseIdentity(config);
};

/**
 * Renews a Firebase-backed Parley sign-in: a fresh ID token from the Firebase SDK (which Firebase refuses for a
 * disabled or deleted account) exchanged for a fresh Parley token.
 */
export async function renewFirebaseSignIn(api: ApiClient, load: FirebaseIdentityLoader = loadFirebaseIdentity) {
  const config = (await api.authConfig()).firebase;
  if (!config) throw new ApiError(404, "not_found", "Firebase sign-in is no longer enabled on this server");
  const idToken = await (await load(config)).currentIdToken();
  if (!idToken) throw new ApiError(401, "auth.invalid", "Your Firebase sign-in has ended; sign in again");
  return api.firebaseSignIn(idToken);
}

/** Signs the browser out of Firebase too, when the Parley sign-in came from it. */
export async function endFirebaseSignIn(api: ApiClient, load: FirebaseIdentityLoader = loadFirebaseIdentity) {
  const config = (await api.authConfig()).firebase;
  if (config) await (await load(config)).signOut();
}

export class FirebaseSignIn {
  private identity: Promise<FirebaseIdentity> | null = null;

  constructor(
    private readonly api: ApiClient,
    private readonly config: FirebaseWebConfig,
    private readonly load: FirebaseIdentityLoader = loadFirebaseIdentity,
  ) {}

  /**
   * Fetches the SDK ahead of the first click: a Google sign-in must open its window while the click still
   * counts as the person's gesture, or the browser blocks the popup.
   */
  preload(): void {
    this.loaded().catch(() => undefined);
  }

  /** Proves identity with Firebase, then signs in to Parley with the ID token. */
  async signIn(method: FirebaseMethod): Promise<AuthResult> {
    const identity = await this.loaded();
    const idToken = await idTokenFor(identity, method);
    return this.api.firebaseSignIn(idToken);
  }

  private loaded(): Promise<FirebaseIdentity> {
    if (!this.identity) {
      this.identity = this.load(this.config).catch((error: unknown) => {
        this.identity = null; // the next attempt tries again
        throw error;
      });
    }
    return this.identity;
  }
}

function idTokenFor(identity: FirebaseIdentity, method: FirebaseMethod): Promise<string> {
  switch (method.kind) {
    case "google":
      return identity.signInWithGoogle();
    case "email":
      return identity.signInWithEmail(method.email, method.password);
    case "email-sign-up":
      return identity.signUpWithEmail(method.email, method.password, method.displayName);
  }
}

const wrongCredentials = "That email and password don't match an account.";

// Firebase error codes (https://firebase.google.com/docs/reference/js/auth#autherrorcodes) in plain words.
const firebaseMessages: Record<string, string> = {
  "auth/invalid-credential": wrongCredentials,
  "auth/invalid-login-credentials": wrongCredentials,
  "auth/wrong-password": wrongCredentials,
  "auth/user-not-found": wrongCredentials,
  "auth/user-disabled": "This account has been disabled. Ask the people who run this Parley site.",
  "auth/too-many-requests": "Too many attempts. Wait a few minutes and try again.",
  "auth/network-request-failed": "Firebase can't be reached right now. Check your connection and try again.",
  // What the Google window ends with when Google's own scripts cannot be loaded.
  "auth/internal-error": "Signing in with Firebase ran into a problem. Check your connection and try again.",
  "auth/invalid-email": "Enter a valid email address.",
  "auth/missing-email": "Enter your email address.",
  "auth/missing-password": "Enter your password.",
  "auth/email-already-in-use": "There is already an account with this email. Sign in instead.",
  "auth/weak-password": "Choose a longer password: at least 6 characters.",
  "auth/password-does-not-meet-requirements": "That password doesn't meet this site's password rules.",
  "auth/popup-blocked": "Your browser blocked the Google sign-in window. Allow pop-ups for this site and try again.",
  "auth/account-exists-with-different-credential":
    "This email already has an account that signs in another way. Use the method you used before.",
  "auth/operation-not-allowed": "This way of signing in is turned off for this site.",
  "auth/admin-restricted-operation": "New accounts can't be created here. Ask the people who run this Parley site.",
  "auth/unauthorized-domain":
    "This address isn't allowed to sign in with Firebase: " +
    "it must be added to the Firebase project's authorized domains.",
  "auth/invalid-api-key": "Firebase sign-in is not set up correctly on this server.",
};

/** Closing the Google window or starting another sign-in is the person's choice, not an error. */
const cancelledCodes = new Set(["auth/popup-closed-by-user", "auth/cancelled-popup-request", "auth/user-cancelled"]);

/** Words for a failed Firebase sign-in, or null when the person cancelled it and there is nothing to say. */
export function describeFirebaseError(error: unknown): string | null {
  if (error instanceof ApiError) {
    // The gateway says why it refused the token (expired, revoked, disabled…) or that Firebase is unreachable.
    if (error.code === "auth.invalid" || error.code === "auth.unavailable" || error.code === "not_found") {
      return sentence(error.message);
    }
    return describeAuthError(error);
  }
  if (error instanceof FirebaseLoadError) return error.message;
  const code = firebaseErrorCode(error);
  if (code === null) return "Something went wrong. Try again.";
  if (cancelledCodes.has(code)) return null;
  if (code.startsWith("auth/api-key-not-valid")) return firebaseMessages["auth/invalid-api-key"];
  return firebaseMessages[code] ?? `Firebase sign-in failed (${code.replace(/^auth\//, "")}). Try again.`;
}

function firebaseErrorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("auth/") ? code : null;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
