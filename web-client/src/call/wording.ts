// The words a call shows to people, in one place: the call stage reads them from here.
import type { CallFailure, MediaProblem } from "./machine";

export const callNotices = {
  reconnecting: "Reconnecting… your call continues as soon as the connection is back.",
  moving: "Reconnecting the call…",
  preparing: "Starting your camera and microphone…",
  joining: "Joining the call…",
  connecting: "Connecting media…",
  receiveOnly: "You joined without camera or microphone: others can't see or hear you.",
  weakConnection: "Your connection is weak: showing lower quality.",
} as const;

/** Under the avatar of a tile whose video the server does not send, saying why. */
export const tileNotes = {
  withheld: "Video paused: only the most recent speakers' video is sent. Pin to see it.",
  weakConnection: "Video paused: your connection is weak.",
} as const;

export const iceFailureMessage =
  "The call's media couldn't connect. UDP traffic is probably blocked by a firewall or this network. " +
  "Try another network, or ask your administrator to set up a TURN server for Parley.";

/** Why the call stopped, in plain words; the server's own reason when it gave one (it names the cause). */
export function failureMessage(failure: CallFailure): string {
  if (failure.kind === "ice") return iceFailureMessage;
  if (failure.kind === "ended") {
    return failure.reason === "removed"
      ? "You were removed from this meeting, so you are no longer in its call."
      : "This meeting was archived, which ended its call.";
  }
  const { detail } = failure;
  switch (failure.trouble) {
    case "join-timeout":
      return "The server didn't answer the request to join the call. Check your connection and try again.";
    case "join-refused":
      return detail ? `The call couldn't be joined: ${detail}` : "The call couldn't be joined.";
    case "publish-refused":
      return `The media server refused what this browser sends (${detail}).`;
    case "subscribe-refused":
      return `The call's incoming media couldn't be set up (${detail}).`;
    case "publish-offer":
      return `The call couldn't start sending media (${detail}).`;
    case "publish-answer":
      return `The media server's answer was refused (${detail}).`;
  }
}

/** What went wrong with the devices, naming only what failed. */
export function problemMessage(problem: MediaProblem): string {
  const what = problem.device;
  switch (problem.kind) {
    case "denied":
      return `Parley isn't allowed to use your ${what}. Allow it in the browser's site settings, or join without it.`;
    case "missing":
      return `No ${what} was found on this device.`;
    case "other":
      return `Your ${what} couldn't be started (${problem.errorName || "unknown error"}).`;
  }
}

export function screenShareErrorMessage(detail: string): string {
  return `The screen couldn't be shared (${detail}).`;
}
