// Who is online, as the gateway reports it, joined with the user directory for display.
import type { User } from "../api/client";
import type { PresenceStatus } from "../ws/messages";

export type PresenceMap = ReadonlyMap<string, PresenceStatus>;

export function applyPresence(map: PresenceMap, userId: string, status: PresenceStatus): PresenceMap {
  if (map.get(userId) === status) return map;
  const next = new Map(map);
  next.set(userId, status);
  return next;
}

export interface PersonRow {
  user: User;
  status: PresenceStatus | "unknown";
  isSelf: boolean;
}

const rank: Record<PersonRow["status"], number> = { "in-call": 0, online: 0, dnd: 0, away: 0, offline: 1, unknown: 2 };

/** Signed in, whatever their status. */
export function isAround(status: PersonRow["status"] | undefined): boolean {
  return status !== undefined && status !== "offline" && status !== "unknown";
}

/** People to show: yourself first, then those online, then the rest, each group by name. */
export function peopleRows(users: readonly User[], presence: PresenceMap, selfId: string, filter = ""): PersonRow[] {
  const needle = filter.trim().toLowerCase();
  return users
    .filter(
      (u) =>
        !needle || u.displayName.toLowerCase().includes(needle) || u.username.toLowerCase().includes(needle),
    )
    .map((user): PersonRow => ({ user, status: presence.get(user.userId) ?? "unknown", isSelf: user.userId === selfId }))
    .sort(
      (a, b) =>
        Number(b.isSelf) - Number(a.isSelf) ||
        rank[a.status] - rank[b.status] ||
        a.user.displayName.localeCompare(b.user.displayName, undefined, { sensitivity: "base" }) ||
        a.user.username.localeCompare(b.user.username),
    );
}

export function statusLabel(status: PersonRow["status"]): string {
  switch (status) {
    case "online":
      return "Available";
    case "in-call":
      return "Busy";
    case "dnd":
      return "Do not disturb";
    case "away":
      return "Away";
    case "offline":
      return "Offline";
    default:
      return "Status unknown";
  }
}

/** Initials for an avatar: first letters of the first two words, or the first two letters. */
export function initials(displayName: string): string {
  const words = displayName.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const letters = words.length === 1 ? [...words[0]].slice(0, 2) : [[...words[0]][0], [...words[1]][0]];
  return letters.join("").toUpperCase();
}
