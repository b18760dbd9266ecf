import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { type AuthResult, createApiClient } from "./api/client";
import { endFirebaseSignIn } from "./auth/firebase";
import { navigate, paths, routeOf, usePath } from "./router";
import { SignInScreen } from "./screens/SignInScreen";
import { SignUpScreen } from "./screens/SignUpScreen";
import { AuthStore, type SignedIn, sessionIdStore } from "./session/storage";
import { tokenTimes } from "./session/tokenRenewal";
import { SignedInApp, pendingInviteKey } from "./shell/SignedInApp";

export function App() {
  const authStore = useMemo(() => new AuthStore(window.localStorage), []);
  const sessionIds = useMemo(() => sessionIdStore(window.sessionStorage), []);
  const [signedIn, setSignedIn] = useState<SignedIn | null>(() => authStore.load());
  const [notice, setNotice] = useState<string | null>(null);
  const tokenRef = useRef(signedIn?.token ?? null);
  tokenRef.current = signedIn?.token ?? null;
  const api = useMemo(() => createApiClient({ token: () => tokenRef.current }), []);
  const path = usePath();

  const handleSignedIn = useCallback(
    (result: AuthResult) => {
      sessionIds.clear();
      setNotice(null);
      setSignedIn(authStore.save(result));
      navigate(paths.home, { replace: true });
    },
    [authStore, sessionIds],
  );

  const tokenRenewed = useCallback(
    (token: string) => {
      const renewed = authStore.updateToken(token);
      setSignedIn((current) => (current && renewed ? renewed : current));
    },
    [authStore],
  );

  const signOutLocally = useCallback(
    (message: string | null) => {
      if (tokenRef.current && tokenTimes(tokenRef.current)?.provider === "firebase") {
        endFirebaseSignIn(api).catch(() => undefined);
      }
      authStore.clear();
      sessionIds.clear();
      setNotice(message);
      setSignedIn(null);
      navigate(paths.signIn, { replace: true });
    },
    [api, authStore, sessionIds],
  );

  // Another tab signing out (or in as someone else) ends this tab's sign-in too. Another tab signing in does
  // not sign this one in: two tabs connecting at once would race for the user's single session. Another tab
  // renewing the token (same user) hands this tab the fresh token.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.storageArea !== window.localStorage) return;
      const stored = authStore.load();
      setSignedIn((current) => {
        if (!current) return current;
        if (!stored || stored.user.userId !== current.user.userId) return null;
        return stored.token === current.token ? current : { ...current, token: stored.token };
      });
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, [authStore]);

  useEffect(() => {
    // An invite link opened while signed out is kept for after the sign-in.
    const route = routeOf(path);
    if (!signedIn && route.kind === "invite") window.sessionStorage.setItem(pendingInviteKey, route.token);
    if (!signedIn && path !== paths.signIn && path !== paths.signUp) navigate(paths.signIn, { replace: true });
    if (signedIn && (path === paths.signIn || path === paths.signUp)) navigate(paths.home, { replace: true });
  }, [signedIn, path]);

  if (!signedIn) {
    return path === paths.signUp ? (
      <SignUpScreen api={api} onSignedIn={handleSignedIn} />
    ) : (
      <SignInScreen api={api} notice={notice} onSignedIn={handleSignedIn} />
    );
  }

  return (
    <SignedInApp
      key={signedIn.user.userId}
      signedIn={signedIn}
      path={path}
      api={api}
      sessionIds={sessionIds}
      onUserLoaded={(user) => authStore.updateUser(user)}
      onTokenRenewed={tokenRenewed}
      onSignOut={(message) => signOutLocally(message)}
    />
  );
}
