import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { type AuthResult, createApiClient } from "./api/client";
import { navigate, paths, usePath } from "./router";
import { ActiveSessionScreen } from "./screens/ActiveSessionScreen";
import { HomeScreen } from "./screens/HomeScreen";
import { SignInScreen } from "./screens/SignInScreen";
import { SignUpScreen } from "./screens/SignUpScreen";
import { AuthStore, type SignedIn, sessionIdStore } from "./session/storage";
import { useConnection } from "./session/useConnection";
import { useDirectory } from "./session/useDirectory";
import { ReconnectingBanner } from "./shell/ReconnectingBanner";
import { Shell } from "./shell/Shell";
import type { BlockedReason } from "./ws/connection";

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

  const signOutLocally = useCallback(
    (message: string | null) => {
      authStore.clear();
      sessionIds.clear();
      setNotice(message);
      setSignedIn(null);
      navigate(paths.signIn, { replace: true });
    },
    [authStore, sessionIds],
  );

  // Another tab signing out (or in as someone else) ends this tab's sign-in too. Another tab signing in does
  // not sign this one in: two tabs connecting at once would race for the user's single session.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.storageArea !== window.localStorage) return;
      const stored = authStore.load();
      setSignedIn((current) => (current && stored?.token !== current.token ? null : current));
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, [authStore]);

  useEffect(() => {
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
      key={signedIn.token}
      signedIn={signedIn}
      path={path}
      api={api}
      sessionIds={sessionIds}
      onUserLoaded={(user) => authStore.updateUser(user)}
      onSignOut={(message) => signOutLocally(message)}
    />
  );
}

interface SignedInAppProps {
  signedIn: SignedIn;
  path: string;
  api: ReturnType<typeof createApiClient>;
  sessionIds: ReturnType<typeof sessionIdStore>;
  onUserLoaded: (user: SignedIn["user"]) => void;
  onSignOut: (message: string | null) => void;
}

function SignedInApp({ signedIn, path, api, sessionIds, onUserLoaded, onSignOut }: SignedInAppProps) {
  const { connection, state, presence } = useConnection(signedIn.token, sessionIds);
  const [blocked, setBlocked] = useState<BlockedReason | null>(null);
  const [refusedRetries, setRefusedRetries] = useState(0);
  const [everOpen, setEverOpen] = useState(false);
  const retrying = useRef(false);
  const user = state.kind === "open" ? state.user : signedIn.user;
  const directory = useDirectory(api, state.kind === "open", state.kind === "open" ? state.sessionId : null);

  useEffect(() => {
    if (state.kind === "open") {
      setBlocked(null);
      setRefusedRetries(0);
      setEverOpen(true);
      onUserLoaded(state.user);
    } else if (state.kind === "blocked") {
      if (retrying.current) setRefusedRetries((n) => n + 1);
      retrying.current = false;
      setBlocked(state.reason);
    } else if (state.kind === "unauthorized") {
      onSignOut("Your sign-in has expired. Please sign in again.");
    }
    // Only a change of connection state should act here, not new callback identities.
  }, [state]);

  useEffect(() => {
    if (directory.users) connection.watchPresence(directory.users.map((u) => u.userId));
  }, [connection, directory.users]);

  const signOut = useCallback(() => {
    connection.stop();
    api.logout().catch(() => undefined);
    onSignOut(null);
  }, [api, connection, onSignOut]);

  useEffect(() => {
    if (!blocked) document.title = "People · Parley";
  }, [blocked]);

  if (blocked) {
    return (
      <ActiveSessionScreen
        reason={blocked}
        checking={state.kind === "connecting"}
        refusedRetries={refusedRetries}
        onRetry={() => {
          retrying.current = true;
          connection.retry();
        }}
        onSignOut={signOut}
      />
    );
  }

  if (!everOpen && (state.kind === "connecting" || state.kind === "closed")) {
    return (
      <div className="splash" role="status" aria-live="polite">
        <span className="banner-spinner" aria-hidden="true" />
        Connecting to Parley…
      </div>
    );
  }

  return (
    <Shell
      user={user}
      selfStatus={state.kind === "open" ? (presence.get(user.userId) ?? "online") : "offline"}
      activePath={path}
      title="People"
      banner={state.kind === "reconnecting" ? <ReconnectingBanner onRetryNow={() => connection.reconnectNow()} /> : null}
      onSignOut={signOut}
    >
      <HomeScreen self={user} users={directory.users} presence={presence} loadError={directory.error} />
    </Shell>
  );
}
