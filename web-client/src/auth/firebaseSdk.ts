// The only module that imports the Firebase SDK; firebase.ts loads it with a dynamic import, so Vite puts it and
// the SDK in a chunk of their own.
import { initializeApp } from "firebase/app";
import {
  type Auth,
  GoogleAuthProvider,
  browserLocalPersistence,
  browserPopupRedirectResolver,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  inMemoryPersistence,
  indexedDBLocalPersistence,
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
      return user.getIdToken();
    },
    signUpWithEmail: async (email, password, displayName) => {
      const { user } = await createUserWithEmailAndPassword(auth, email, password);
      await updateProfile(user, { displayName });
      // A fresh token, so that it carries the name just set and Parley shows it.
      return user.getIdToken(true);
    },
    signInWithGoogle: async () => (await signInWithPopup(auth, new GoogleAuthProvider())).user.getIdToken(),
    currentIdToken: async () => {
      await auth.authStateReady();
      return auth.currentUser ? auth.currentUser.getIdToken() : null;
    },
    signOut: () => signOut(auth),
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
  // Firebase stays signed in on this browser, so that the Parley session can be renewed with fresh ID tokens
  // (which Firebase no longer gives a disabled or deleted account); signing out of Parley signs out of it too.
  const auth = initializeAuth(app, {
    persistence: [indexedDBLocalPersistence, browserLocalPersistence, inMemoryPersistence],
    popupRedirectResolver: browserPopupRedirectResolver,
  });
  // Before any request, or the SDK would talk to Google.
  if (config.emulatorHost) connectAuthEmulator(auth, emulatorUrl(config.emulatorHost));
  authByConfig.set(key, auth);
  return auth;
}
