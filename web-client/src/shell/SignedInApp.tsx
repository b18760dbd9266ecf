// The signed-in app: one socket, the user's meetings and chat, at most one call, and the screens for them.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, type ApiClient, type User } from "../api/client";
import { renewFirebaseSignIn } from "../auth/firebase";
import { CallAudio } from "../call/CallAudio";
import { CallController } from "../call/controller";
import { RingController } from "../call/ringing";
import { ActivityTracker } from "../presence/activity";
import type { PresenceChoice } from "../ws/messages";
import { PendingQueue } from "../chat/pending";
import { createMeetingsApi } from "../meetings/api";
import { InviteScreen } from "../meetings/InviteScreen";
import { MeetingsScreen } from "../meetings/MeetingsScreen";
import { MeetingsStore } from "../meetings/store";
import { invitePath, meetingPath, navigate, paths, routeOf } from "../router";
import { ActiveSessionScreen } from "../screens/ActiveSessionScreen";
import { HomeScreen } from "../screens/HomeScreen";
import { CallNotices } from "./CallNotices";
import type { SignedIn, sessionIdStore } from "../session/storage";
import { useConnection } from "../session/useConnection";
import { useDirectory } from "../session/useDirectory";
import { useBlocks } from "../session/useBlocks";
import { TokenRenewal, tokenTimes } from "../session/tokenRenewal";
import type { BlockedReason } from "../ws/connection";
import { ChangePasswordDialog } from "./ChangePasswordDialog";
import { ReconnectingBanner } from "./ReconnectingBanner";
import { RingPanel } from "./RingPanel";
import { useStore } from "../store";
import { Shell } from "./Shell";

/** Where an invite link opened before sign-in waits until the user is signed in. */
export const pendingInviteKey = "parley.pendingInvite";

interface Props {
  signedIn: SignedIn;
  path: string;
  api: ApiClient;
  sessionIds: ReturnType<typeof sessionIdStore>;
  onUserLoaded: (user: User) => void;
  /** A fresh token replaced the current one (the sign-in goes on). */
  onTokenRenewed: (token: string) => void;
  onSignOut: (message: string | null) => void;
}

export function SignedInApp({ signedIn, path, api, sessionIds, onUserLoaded, onTokenRenewed, onSignOut }: Props) {
  const { connection, state, presence } = useConnection(signedIn.token, sessionIds);
  const [blocked, setBlocked] = useState<BlockedReason | null>(null);
  const [refusedRetries, setRefusedRetries] = useState(0);
  const [everOpen, setEverOpen] = useState(false);
  const retrying = useRef(false);
  const user = state.kind === "open" ? state.user : signedIn.user;
  const directory = useDirectory(api, state.kind === "open", state.kind === "open" ? state.sessionId : null);
  const blocks = useBlocks(api, state.kind === "open" ? state.sessionId : null);
  const tokenRef = useRef(signedIn.token);
  tokenRef.current = signedIn.token;

  const meetingsApi = useMemo(() => createMeetingsApi({ token: () => tokenRef.current }), []);

  // Renews the token while the app is open, so neither the sign-in nor the socket runs out in use.
  const renewedRef = useRef(onTokenRenewed);
  renewedRef.current = onTokenRenewed;
  const renewal = useMemo(
    () =>
      new TokenRenewal({
        renew: async (provider) =>
          (provider === "firebase" ? await renewFirebaseSignIn(api) : await api.refresh()).token,
        onRenewed: (token) => renewedRef.current(token),
        timers: {
          set: (callback, ms) => setTimeout(callback, ms),
          clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
        },
      }),
    [api],
  );
  useEffect(() => {
    renewal.follow(signedIn.token);
    return () => renewal.stop();
  }, [renewal, signedIn.token]);
  const store = useMemo(
    () =>
      new MeetingsStore({
        api: meetingsApi,
        request: (message) => connection.request(message),
        selfId: signedIn.user.userId,
        pending: new PendingQueue(window.sessionStorage),
        pageVisible: () => document.visibilityState === "visible",
      }),
    [meetingsApi, connection, signedIn.user.userId],
  );
  const calls = useMemo(
    () => new CallController((message, timeoutMs) => connection.request(message, timeoutMs)),
    [connection],
  );
  const rings = useMemo(
    () =>
      new RingController({
        selfId: signedIn.user.userId,
        request: (message) => connection.request(message),
        timers: {
          set: (callback, ms) => setTimeout(callback, ms),
          clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
        },
        onAccepted: (meetingId, mode) => {
          navigate(meetingPath(meetingId));
          calls.join(meetingId, mode);
        },
        onRinging: (meetingId, mode) => calls.join(meetingId, mode),
        // Nobody answered: leave the call we waited in, unless others are in it (a group call we rang someone into).
        onUnanswered: (meetingId) => {
          const others = store.calls.get(meetingId)?.participants.filter((p) => p.userId !== signedIn.user.userId);
          if (calls.view.get().session?.meetingId === meetingId && !others?.length) calls.leave();
        },
      }),
    [connection, calls, store, signedIn.user.userId],
  );
  useStore(store.revision);
  const call = useStore(calls.view);

  // The status the user chose (asked of the server on every connect: another device may have changed it), and
  // activity for Away.
  const [choice, setChoice] = useState<PresenceChoice>("available");
  useEffect(() => {
    if (state.kind !== "open") return;
    connection.request({ type: "presence.mine" }).then(
      (answer) => answer.type === "presence.choice" && setChoice(answer.status),
      () => undefined,
    );
  }, [connection, state]);
  const choose = useCallback((status: PresenceChoice) => {
    setChoice(status);
    connection.request({ type: "presence.set", status }).then(
      (answer) => answer.type === "presence.choice" && setChoice(answer.status),
      () => undefined,
    );
  }, [connection]);
  const activity = useMemo(
    () =>
      new ActivityTracker({
        timers: {
          set: (callback, ms) => setTimeout(callback, ms),
          clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
        },
        isHidden: () => document.visibilityState === "hidden",
        report: (idle) => void connection.request({ type: "presence.idle", idle }).catch(() => undefined),
      }),
    [connection],
  );
  useEffect(() => {
    let last = 0;
    const onInput = () => {
      const now = Date.now();
      if (now - last < 2_000) return;
      last = now;
      activity.activity();
    };
    const onVisibility = () => activity.visibilityChanged();
    const inputs = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart"] as const;
    for (const type of inputs) window.addEventListener(type, onInput, { passive: true });
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      for (const type of inputs) window.removeEventListener(type, onInput);
      document.removeEventListener("visibilitychange", onVisibility);
      activity.stop();
    };
  }, [activity]);

  useEffect(() => connection.onMessage((message) => {
    store.handle(message);
    calls.handle(message);
    rings.handle(message);
    // A direct call grew into a group meeting: whoever is in it follows it there, in the same mode.
    // (A call that moved to another media server stays in its meeting: its session rejoins by itself.)
    if (message.type === "call.moved" && message.to !== message.meetingId) {
      const current = calls.view.get();
      if (current.session?.meetingId !== message.meetingId || !current.session.isActive) return;
      navigate(meetingPath(message.to));
      calls.join(message.to, current.snapshot?.mode ?? "full");
    }
  }), [connection, store, calls, rings]);

  /** Adds a third person to a direct call: the new meeting takes the call (call.moved), and they are rung into it. */
  const growCall = useCallback(async (directId: string, username: string) => {
    const group = await meetingsApi.groupFromDirect(directId, username);
    store.added(group);
    const third = group.members.find((m) => m.username === username);
    if (third) rings.call(third, "video", group.meetingId);
  }, [meetingsApi, store, rings]);

  // After every (re)connect: catch up on chat, resend what was not acknowledged, take the call back.
  const wasOpen = useRef(false);
  useEffect(() => {
    if (state.kind === "open") {
      void store.connected();
      activity.connected();
      if (wasOpen.current) calls.socketReopened();
      wasOpen.current = true;
    } else if (wasOpen.current) {
      calls.socketLost();
    }
  }, [state, store, calls, activity]);

  useEffect(() => {
    const onVisible = () => store.pageShown();
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [store]);

  // Leaving the page leaves the call at once, rather than after the server's reconnect grace, and stops ringing.
  useEffect(() => {
    const onPageHide = () => {
      rings.cancel();
      calls.leave();
    };
    window.addEventListener("pagehide", onPageHide);
    return () => {
      window.removeEventListener("pagehide", onPageHide);
      calls.leave();
    };
  }, [calls, rings]);

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
      calls.leave();
    } else if (state.kind === "unauthorized") {
      onSignOut("Your sign-in has expired. Please sign in again.");
    } else if (state.kind === "signedOut") {
      calls.leave();
      onSignOut(state.message);
    }
    // Only a change of connection state should act here, not new callback identities.
  }, [state]);

  useEffect(() => {
    if (directory.users) connection.watchPresence(directory.users.map((u) => u.userId));
  }, [connection, directory.users]);

  const signOut = useCallback(() => {
    calls.leave();
    connection.stop();
    api.logout().catch(() => undefined);
    onSignOut(null);
  }, [api, calls, connection, onSignOut]);

  const signOutEverywhere = useCallback(async () => {
    if (!window.confirm("Sign out of Parley on every device and browser, this one included?")) return;
    try {
      await api.logoutEverywhere();
    } catch (error) {
      window.alert(error instanceof ApiError ? error.message : "Signing out everywhere failed. Try again.");
      return;
    }
    calls.leave();
    connection.stop();
    onSignOut("You were signed out on every device.");
  }, [api, calls, connection, onSignOut]);

  const [changingPassword, setChangingPassword] = useState(false);
  // Firebase accounts change their password with Firebase; only local ones have one here.
  const localAccount = tokenTimes(signedIn.token)?.provider === "local";

  const route = routeOf(path);
  const inviteToken = route.kind === "invite" ? route.token : null;

  // An invite link opened before signing in is opened now.
  useEffect(() => {
    const pending = window.sessionStorage.getItem(pendingInviteKey);
    if (!pending) return;
    window.sessionStorage.removeItem(pendingInviteKey);
    navigate(invitePath(pending), { replace: true });
  }, []);

  const title = route.kind === "meetings" || inviteToken ? "Meetings" : "People";
  useEffect(() => {
    if (blocked) return;
    const meeting = route.kind === "meetings" && route.meetingId ? store.find(route.meetingId) : undefined;
    document.title = meeting ? `${meeting.title} · Parley` : `${title} · Parley`;
  });

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

  const activePath = route.kind === "meetings" || inviteToken ? paths.meetings : paths.home;
  let content;
  if (inviteToken) {
    content = (
      <InviteScreen
        token={inviteToken}
        api={meetingsApi}
        onAccepted={(meeting) => store.added(meeting)}
      />
    );
  } else if (route.kind === "meetings") {
    content = (
      <MeetingsScreen
        self={user}
        store={store}
        api={meetingsApi}
        calls={calls}
        call={call}
        presence={presence}
        onRing={(person, media) => rings.call(person, media)}
        onGrowCall={growCall}
        joinCall={(meetingId) => {
          if (!rings.joining(meetingId)) calls.join(meetingId);
        }}
        selectedId={route.meetingId}
        online={state.kind === "open"}
      />
    );
  } else {
    content = (
      <HomeScreen
        self={user}
        users={directory.users}
        presence={presence}
        loadError={directory.error}
        api={api}
        onCall={(person, media) => rings.call(person, media)}
        blocks={blocks}
        directoryMore={directory}
        onChat={async (person) => {
          const chat = await meetingsApi.openDirect(person.userId);
          store.added(chat);
          navigate(meetingPath(chat.meetingId));
        }}
      />
    );
  }

  return (
    <Shell
      user={user}
      selfStatus={state.kind === "open" ? (presence.get(user.userId) ?? "online") : "offline"}
      choice={choice}
      onChoose={choose}
      activePath={activePath}
      title={title}
      wide={route.kind === "meetings"}
      banner={state.kind === "reconnecting" ? <ReconnectingBanner onRetryNow={() => connection.reconnectNow()} /> : null}
      onSignOut={signOut}
      onSignOutEverywhere={() => void signOutEverywhere()}
      onChangePassword={localAccount ? () => setChangingPassword(true) : undefined}
    >
      <CallNotices
        notices={store.callNotices}
        store={store}
        openMeetingId={route.kind === "meetings" ? route.meetingId : null}
        onJoin={(meetingId) => {
          store.dismissCallNotice(meetingId);
          navigate(meetingPath(meetingId));
          calls.join(meetingId);
        }}
      />
      <RingPanel rings={rings} />
      {content}
      {changingPassword && (
        <ChangePasswordDialog
          api={api}
          sessionId={state.kind === "open" ? state.sessionId : null}
          onRenewed={(token) => renewedRef.current(token)}
          onClose={() => setChangingPassword(false)}
        />
      )}
      <CallAudio snapshot={call.snapshot} />
    </Shell>
  );
}
