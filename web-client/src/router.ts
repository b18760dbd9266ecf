// A small history-API router: the gateway serves index.html for every app path, so paths are real URLs.
import { useEffect, useState } from "react";

export const paths = {
  home: "/",
  signIn: "/signin",
  signUp: "/signup",
  meetings: "/meetings",
} as const;

export function meetingPath(meetingId: string): string {
  return `${paths.meetings}/${encodeURIComponent(meetingId)}`;
}

export function invitePath(token: string): string {
  return `/invite/${encodeURIComponent(token)}`;
}

export type Route =
  | { kind: "people" }
  | { kind: "meetings"; meetingId: string | null }
  | { kind: "invite"; token: string }
  | { kind: "other" };

/** The signed-in app's screen for a path. */
export function routeOf(path: string): Route {
  if (path === paths.home) return { kind: "people" };
  if (path === paths.meetings || path === `${paths.meetings}/`) return { kind: "meetings", meetingId: null };
  const meeting = path.match(/^\/meetings\/([^/]+)\/?$/);
  if (meeting) return { kind: "meetings", meetingId: decodeURIComponent(meeting[1]) };
  const invite = path.match(/^\/invite\/([^/]+)\/?$/);
  if (invite) return { kind: "invite", token: decodeURIComponent(invite[1]) };
  return { kind: "other" };
}

const listeners = new Set<() => void>();

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname) return;
  if (options.replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  for (const listener of listeners) listener();
}

export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return path;
}
