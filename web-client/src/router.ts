// A small history-API router: the gateway serves index.html for every app path, so paths are real URLs.
import { createStore, useStore } from "./store";

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

/** The path on screen: changed by navigate() and by the browser's back and forward buttons. */
const currentPath = createStore(typeof window === "undefined" ? "/" : window.location.pathname);
if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => currentPath.set(window.location.pathname));
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname) return;
  if (options.replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  currentPath.set(window.location.pathname);
}

export function usePath(): string {
  return useStore(currentPath);
}
