import { useEffect, useMemo, useState } from "react";
import type { ApiClient, FirebaseWebConfig } from "../api/client";
import { FirebaseSignIn } from "../auth/firebase";
import { type AuthProviders, fallbackProviders, providersFrom } from "../auth/providers";

/**
 * The sign-in methods the server offers, or null while it is being asked. If the question fails, local accounts
 * are offered: the server still has the last word when the form is sent.
 */
export function useAuthProviders(api: ApiClient): AuthProviders | null {
  const [providers, setProviders] = useState<AuthProviders | null>(null);
  useEffect(() => {
    let live = true;
    api.authConfig().then(
      (config) => live && setProviders(providersFrom(config)),
      () => live && setProviders(fallbackProviders),
    );
    return () => {
      live = false;
    };
  }, [api]);
  return providers;
}

/** Firebase sign-in for the server's Firebase config, its SDK fetched as soon as the server says it offers it. */
export function useFirebaseSignIn(api: ApiClient, config: FirebaseWebConfig | null): FirebaseSignIn | null {
  const key = config ? JSON.stringify(config) : null;
  // Keyed by the config's content, not its identity: a new answer with the same content keeps the loaded SDK.
  const firebase = useMemo(() => (config ? new FirebaseSignIn(api, config) : null), [api, key]);
  useEffect(() => firebase?.preload(), [firebase]);
  return firebase;
}
