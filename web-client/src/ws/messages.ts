// The WebSocket protocol at /ws, as typed messages. Later issues add meetings, chat and call messages
// to these unions.
import type { User } from "../api/client";

export type PresenceStatus = "online" | "in-call" | "offline";

export type ClientMessage =
  | { type: "hello"; token: string; resume?: string }
  | { type: "presence.subscribe"; userIds: string[] };

export type ServerMessage =
  | { type: "welcome"; sessionId: string; user: User }
  | { type: "error"; code: string; message: string }
  | { type: "presence"; userId: string; status: PresenceStatus };

/** Error codes the server sends over the socket that the client acts on. */
export const WsErrorCode = {
  authInvalid: "auth.invalid",
  sessionActive: "session.active",
  sessionReplaced: "session.replaced",
  badRequest: "bad_request",
} as const;

/** Close codes the server uses; 1001 means the server is going away (shutdown). */
export const WsCloseCode = {
  goingAway: 1001,
  unauthorized: 4401,
  sessionConflict: 4409,
} as const;

const presenceStatuses: readonly string[] = ["online", "in-call", "offline"];

/** Parses one server frame; anything malformed or of an unknown type gives null. */
export function parseServerMessage(raw: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case "welcome":
      return typeof m.sessionId === "string" && isUser(m.user)
        ? { type: "welcome", sessionId: m.sessionId, user: m.user }
        : null;
    case "error":
      return typeof m.code === "string"
        ? { type: "error", code: m.code, message: typeof m.message === "string" ? m.message : "" }
        : null;
    case "presence":
      return typeof m.userId === "string" && typeof m.status === "string" && presenceStatuses.includes(m.status)
        ? { type: "presence", userId: m.userId, status: m.status as PresenceStatus }
        : null;
    default:
      return null;
  }
}

function isUser(value: unknown): value is User {
  if (typeof value !== "object" || value === null) return false;
  const u = value as Record<string, unknown>;
  return typeof u.userId === "string" && typeof u.username === "string" && typeof u.displayName === "string";
}
