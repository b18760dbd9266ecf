// The only module that imports the Firebase SDK; firebase.ts loads it with a dynamic import, so Vite puts it and
// the SDK in a chunk of their own.
import { initializeApp } from "firebase/app";
import {
  type Auth,
  GoogleAuthProvider,
  type User,
  browserPopupRedirectResolver,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  inMemoryPersistence,
  initializeAuth,
  signInWithEmailAndPassword,
  signInWithPopup,
  signOut,
  updateProfile,
} from "firebase/auth";
import type { FirebaseWebConfig } from "../api/client";
import type { FirebaseIdentity } from "./firebase";
import { emulatorUrl } from "./providers";

// One Firebase app per distinct config for the page's lifetime: the SDK refuses to initialise the same one twice.
const authByConfig = new Map<string, Auth>();

export function firebaseIdentity(config: FirebaseWebConfig): FirebaseIdentity {
  const auth = authFor(config);
  return {
    signInWithEmail: async (email, password) => {
      const { user } = await signInWithEmailAndPassword(auth, email, password);
      return idTokenOf(auth, user);
    },
    signUpWithEmail: async (email, password, displayName) => {
      const { user } = await createUserWithEmailAndPassword(auth, email, password);
      await updateProfile(user, { displayName });
      // A fresh token, so that it carries the name just set and Parley shows it.
      return idTokenOf(auth, user, true);
    },
    signInWithGoogle: async () => idTokenOf(auth, (await signInWithPopup(auth, new GoogleAuthProvider())).user),
  };
}

function authFor(config: FirebaseWebConfig): Auth {
  const key = JSON.stringify(config);
  const existing = authByConfig.get(key);
  if (existing) return existing;
  const app = initializeApp(
    { apiKey: config.apiKey, authDomain: config.authDomain, projectId: config.projectId },
    `parley-${authByConfig.size}`,
  );
  // The Parley token is the session: Firebase keeps nothing in the browser, and signs out once it has given
  // its ID token.
  const auth = initializeAuth(app, {
    persistence: inMemoryPersistence,
    popupRedirectResolver: browserPopupRedirectResolver,
  });
  // Before any request, or the SDK would talk to Google.
  if (config.emulatorHost) connectAuthEmulator(auth, emulatorUrl(config.emulatorHost));
  authByConfig.set(key, auth);
  return auth;
}

async function idTokenOf(auth: Auth, user: User, forceRefresh = false): Promise<string> {
  try {
    return await user.getIdToken(forceRefresh);
  } finally {
    await signOut(auth).catch(() => undefined);
  }
}
