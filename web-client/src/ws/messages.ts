// The WebSocket protocol at /ws (docs/protocol.md), as typed messages. parseServerMessage checks the
// fields the client relies on and drops anything else.
import type { User } from "../api/client";

/**
 * A person's status, first match wins: offline, in-call (busy), dnd (Do not disturb, their choice), away (idle or
 * hidden), online (available).
 */
export type PresenceStatus = "online" | "in-call" | "dnd" | "away" | "offline";

/** What a user may choose for themselves (presence.set). */
export type PresenceChoice = "available" | "dnd";

export interface ChatMessage {
  messageId: string;
  senderId: string | null;
  senderName: string;
  text: string;
  sentAt: number;
  clientMsgId: string | null;
  system: boolean;
}

export interface CallTrack {
  trackId: string;
  kind: "audio" | "video";
  streamId: string;
  mediaStreamTrackId: string;
}

export interface CallParticipant {
  userId: string;
  displayName: string;
  endpointId: string;
  audioMuted: boolean;
  videoMuted: boolean;
  screenSharing: boolean;
  tracks: CallTrack[];
}

export interface CallState {
  meetingId: string;
  active: boolean;
  startedAt: number;
  participants: CallParticipant[];
}

/** How a direct call starts: with the camera, or voice only. */
export type RingMedia = "video" | "audio";

/** Where a ring stands (docs/protocol.md, "Direct calls"); busy and unavailable only ever answer ring.start. */
export type RingStateName = "ringing" | "accepted" | "declined" | "cancelled" | "missed" | "busy" | "unavailable";

/** A direct call ringing, and what became of it (ring.state). */
export interface RingState {
  ringId: string;
  /** The direct chat whose call both join once it is accepted. */
  meetingId: string;
  callerId: string;
  callerName: string;
  calleeId: string;
  calleeName: string;
  media: RingMedia;
  state: RingStateName;
  /** While ringing: how long it still rings. */
  timeoutMs: number;
}

/**
 * What a client may send. Each may carry an `id` (1–64 of `A-Z a-z 0-9 . : - _`); the answer to it, success or
 * error, carries the same id as `re` (see Requests in requests.ts).
 */
export type ClientMessage = ClientRequestBody & { id?: string };

type ClientRequestBody =
  | { type: "hello"; token: string; resume?: string }
  | { type: "session.renew"; token: string }
  | { type: "presence.subscribe"; userIds: string[] }
  | { type: "presence.unsubscribe"; userIds: string[] }
  | { type: "presence.set"; status: PresenceChoice }
  | { type: "presence.mine" }
  | { type: "presence.idle"; idle: boolean }
  | { type: "chat.send"; meetingId: string; clientMsgId: string; text: string }
  | { type: "chat.typing"; meetingId: string }
  | { type: "chat.read"; meetingId: string; messageId: string }
  | { type: "call.join"; meetingId: string }
  | { type: "call.leave"; meetingId: string }
  | { type: "call.turn"; meetingId: string }
  | { type: "call.publish"; meetingId: string; sdp: string }
  | { type: "call.subscribe.answer"; meetingId: string; sdp: string; version: number }
  | { type: "call.media"; meetingId: string; audioMuted: boolean; videoMuted: boolean; screenSharing: boolean }
  | { type: "call.receive"; meetingId: string; videos: VideoReceive[] }
  /** Rings for their direct chat's call, or with `meetingId` for that meeting's (a direct call grown to a group). */
  | { type: "ring.start"; userId: string; media: RingMedia; meetingId?: string }
  | { type: "ring.accept"; ringId: string }
  | { type: "ring.decline"; ringId: string }
  | { type: "ring.cancel"; ringId: string };

/** What one tile shows of a remote video (call.receive): its size in device pixels, 0..16384. */
export interface VideoReceive {
  /** The server's id of the video track (call.state participants[].tracks[].trackId). */
  trackId: string;
  visible: boolean;
  width: number;
  height: number;
  /** Pinned by the user: its video comes even when its publisher is not among the server's last-N speakers. */
  pinned?: boolean;
}

/** What the server sends; `re` is the id of the request a message answers (absent on events). */
export type ServerMessage = ServerMessageBody & { re?: string };

type ServerMessageBody =
  | { type: "welcome"; sessionId: string; user: User }
  | { type: "error"; code: string; message: string }
  | { type: "ok" }
  | { type: "presence"; userId: string; status: PresenceStatus }
  | { type: "presence.choice"; status: PresenceChoice }
  | { type: "chat.ack"; meetingId: string; clientMsgId: string; messageId: string; sentAt: number }
  | { type: "chat.message"; meetingId: string; message: ChatMessage }
  | { type: "chat.typing"; meetingId: string; userId: string; displayName: string }
  | { type: "meeting.updated"; meetingId: string }
  | { type: "meeting.removed"; meetingId: string }
  | { type: "call.joined"; meetingId: string; endpointId: string; resumed: boolean; iceServers: RTCIceServer[] }
  | { type: "call.turn"; meetingId: string; iceServers: RTCIceServer[] }
  | ({ type: "call.state" } & CallState)
  | { type: "call.publish.answer"; meetingId: string; sdp: string }
  | { type: "call.subscribe.offer"; meetingId: string; sdp: string; version: number }
  /** Which simulcast layers (rids) of our published track in section `mid` someone receives now. */
  | { type: "call.layers"; meetingId: string; mid: string; rids: string[] }
  | { type: "call.speakers"; meetingId: string; dominantUserId: string | null; speakingUserIds: string[] }
  /**
   * Remote video tracks the server does not send us, the full lists each time: `trackIds` because more people send
   * video than its last-N, `lowBandwidth` because our downlink does not carry even their lowest layer; `linkLimited`
   * while our downlink keeps some video below what its tile asks for. An older server sends only `trackIds`.
   */
  | { type: "call.withheld"; meetingId: string; trackIds: string[]; lowBandwidth: string[]; linkLimited: boolean }
  | { type: "call.left"; meetingId: string; reason: string }
  | ({ type: "ring.state" } & RingState)
  /**
   * The meeting's call moved: to the group meeting `to` that `byName` made by adding a third person to a direct
   * chat (reason "grown"), or, with `to` the same meeting, to another media server after its own was lost (reason
   * "media-server-lost"): rejoin it without leaving.
   */
  | { type: "call.moved"; meetingId: string; to: string; byUserId: string; byName: string; reason: string };

/** Error codes the server sends over the socket that the client acts on. */
export const WsErrorCode = {
  authInvalid: "auth.invalid",
  sessionActive: "session.active",
  sessionReplaced: "session.replaced",
  sessionEnded: "session.ended",
  badRequest: "bad_request",
  callNotJoined: "call.not_joined",
} as const;

/** Close codes the server uses; 1001 means the server is going away (shutdown). */
export const WsCloseCode = {
  goingAway: 1001,
  unauthorized: 4401,
  sessionConflict: 4409,
  signedOut: 4410,
} as const;

const presenceStatuses: readonly string[] = ["online", "in-call", "dnd", "away", "offline"];

type Fields = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === "string";
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses one server frame; anything malformed or of an unknown type gives null. */
export function parseServerMessage(raw: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const body = parseBody(value);
  if (!body) return null;
  return isString(value.re) ? { ...body, re: value.re } : body;
}

function parseBody(m: Fields): ServerMessageBody | null {
  switch (m.type) {
    case "welcome":
      return isString(m.sessionId) && isUser(m.user) ? { type: "welcome", sessionId: m.sessionId, user: m.user } : null;
    case "error":
      return isString(m.code) ? { type: "error", code: m.code, message: isString(m.message) ? m.message : "" } : null;
    case "ok":
      return { type: "ok" };
    case "presence":
      return isString(m.userId) && isString(m.status) && presenceStatuses.includes(m.status)
        ? { type: "presence", userId: m.userId, status: m.status as PresenceStatus }
        : null;
    case "presence.choice":
      return m.status === "available" || m.status === "dnd" ? { type: "presence.choice", status: m.status } : null;
    case "chat.ack":
      return isString(m.meetingId) && isString(m.clientMsgId) && isString(m.messageId)
        ? {
            type: "chat.ack",
            meetingId: m.meetingId,
            clientMsgId: m.clientMsgId,
            messageId: m.messageId,
            sentAt: isNumber(m.sentAt) ? m.sentAt : Date.now(),
          }
        : null;
    case "chat.message": {
      const message = parseChatMessage(m.message);
      return isString(m.meetingId) && message ? { type: "chat.message", meetingId: m.meetingId, message } : null;
    }
    case "chat.typing":
      return isString(m.meetingId) && isString(m.userId)
        ? {
            type: "chat.typing",
            meetingId: m.meetingId,
            userId: m.userId,
            displayName: isString(m.displayName) ? m.displayName : "Someone",
          }
        : null;
    case "meeting.updated":
    case "meeting.removed":
      return isString(m.meetingId) ? { type: m.type, meetingId: m.meetingId } : null;
    case "call.joined":
      return isString(m.meetingId) && isString(m.endpointId)
        ? {
            type: "call.joined",
            meetingId: m.meetingId,
            endpointId: m.endpointId,
            resumed: m.resumed === true,
            iceServers: iceServersOf(m.iceServers),
          }
        : null;
    case "call.turn":
      return isString(m.meetingId) ? { type: "call.turn", meetingId: m.meetingId, iceServers: iceServersOf(m.iceServers) } : null;
    case "call.state": {
      const state = parseCallState(m);
      return state ? { type: "call.state", ...state } : null;
    }
    case "call.publish.answer":
      return isString(m.meetingId) && isString(m.sdp)
        ? { type: "call.publish.answer", meetingId: m.meetingId, sdp: m.sdp }
        : null;
    case "call.subscribe.offer":
      return isString(m.meetingId) && isString(m.sdp) && isNumber(m.version)
        ? { type: "call.subscribe.offer", meetingId: m.meetingId, sdp: m.sdp, version: m.version }
        : null;
    case "call.layers":
      return isString(m.meetingId) && isString(m.mid) && Array.isArray(m.rids) && m.rids.every(isString)
        ? { type: "call.layers", meetingId: m.meetingId, mid: m.mid, rids: m.rids }
        : null;
    case "call.speakers":
      return isString(m.meetingId) && (m.dominantUserId === null || isString(m.dominantUserId)) &&
        Array.isArray(m.speakingUserIds) && m.speakingUserIds.every(isString)
        ? { type: "call.speakers", meetingId: m.meetingId, dominantUserId: m.dominantUserId, speakingUserIds: m.speakingUserIds }
        : null;
    case "call.withheld":
      return isString(m.meetingId) && Array.isArray(m.trackIds) && m.trackIds.every(isString) &&
        (m.lowBandwidth === undefined || (Array.isArray(m.lowBandwidth) && m.lowBandwidth.every(isString))) &&
        (m.linkLimited === undefined || typeof m.linkLimited === "boolean")
        ? {
            type: "call.withheld",
            meetingId: m.meetingId,
            trackIds: m.trackIds,
            lowBandwidth: m.lowBandwidth ?? [],
            linkLimited: m.linkLimited ?? false,
          }
        : null;
    case "call.left":
      return isString(m.meetingId)
        ? { type: "call.left", meetingId: m.meetingId, reason: isString(m.reason) ? m.reason : "" }
        : null;
    case "call.moved":
      return isString(m.meetingId) && isString(m.to)
        ? {
            type: "call.moved",
            meetingId: m.meetingId,
            to: m.to,
            byUserId: isString(m.byUserId) ? m.byUserId : "",
            byName: isString(m.byName) ? m.byName : "Someone",
            reason: isString(m.reason) ? m.reason : "",
          }
        : null;
    case "ring.state": {
      const ring = parseRingState(m);
      return ring ? { type: "ring.state", ...ring } : null;
    }
    default:
      return null;
  }
}

const ringStates: readonly string[] = ["ringing", "accepted", "declined", "cancelled", "missed", "busy", "unavailable"];

function parseRingState(m: Fields): RingState | null {
  if (![m.ringId, m.meetingId, m.callerId, m.calleeId].every(isString)) return null;
  if (!isString(m.state) || !ringStates.includes(m.state)) return null;
  return {
    ringId: m.ringId as string,
    meetingId: m.meetingId as string,
    callerId: m.callerId as string,
    callerName: isString(m.callerName) ? m.callerName : "Someone",
    calleeId: m.calleeId as string,
    calleeName: isString(m.calleeName) ? m.calleeName : "Someone",
    media: m.media === "audio" ? "audio" : "video",
    state: m.state as RingStateName,
    timeoutMs: isNumber(m.timeoutMs) && m.timeoutMs > 0 ? m.timeoutMs : 0,
  };
}

export function parseChatMessage(value: unknown): ChatMessage | null {
  if (!isObject(value) || !isString(value.messageId) || !isString(value.text)) return null;
  return {
    messageId: value.messageId,
    senderId: isString(value.senderId) ? value.senderId : null,
    senderName: isString(value.senderName) ? value.senderName : "",
    text: value.text,
    sentAt: isNumber(value.sentAt) ? value.sentAt : 0,
    clientMsgId: isString(value.clientMsgId) ? value.clientMsgId : null,
    system: value.system === true,
  };
}

/** A call.state message or the body of GET /api/meetings/{id}/call. */
export function parseCallState(m: unknown): CallState | null {
  if (!isObject(m) || !isString(m.meetingId)) return null;
  const participants = Array.isArray(m.participants) ? m.participants.filter(isObject) : [];
  return {
    meetingId: m.meetingId,
    active: m.active === true,
    startedAt: isNumber(m.startedAt) ? m.startedAt : 0,
    participants: participants
      .filter((p) => isString(p.userId))
      .map((p) => ({
        userId: p.userId as string,
        displayName: isString(p.displayName) ? p.displayName : "",
        endpointId: isString(p.endpointId) ? p.endpointId : "",
        audioMuted: isBoolean(p.audioMuted) ? p.audioMuted : false,
        videoMuted: isBoolean(p.videoMuted) ? p.videoMuted : false,
        screenSharing: isBoolean(p.screenSharing) ? p.screenSharing : false,
        tracks: (Array.isArray(p.tracks) ? p.tracks.filter(isObject) : [])
          .filter((t) => isString(t.streamId) && (t.kind === "audio" || t.kind === "video"))
          .map((t) => ({
            trackId: isString(t.trackId) ? t.trackId : "",
            kind: t.kind as "audio" | "video",
            streamId: t.streamId as string,
            mediaStreamTrackId: isString(t.mediaStreamTrackId) ? t.mediaStreamTrackId : "",
          })),
      })),
  };
}

function isUser(value: unknown): value is User {
  if (!isObject(value)) return false;
  return isString(value.userId) && isString(value.username) && isString(value.displayName);
}

function iceServersOf(value: unknown): RTCIceServer[] {
  return Array.isArray(value) ? (value.filter(isObject) as unknown as RTCIceServer[]) : [];
}
