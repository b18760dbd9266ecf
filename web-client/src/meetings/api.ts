// REST routes for meetings, invites, chat history and calls (docs/protocol.md), on the same error
// convention as the sign-in API: every failure is an ApiError carrying the server's code.
import { type ApiClientOptions, type User, createApiRequest } from "../api/client";
import { type CallState, type ChatMessage, parseCallState, parseChatMessage } from "../ws/messages";

export interface Meeting {
  meetingId: string;
  title: string;
  description: string;
  ownerId: string;
  createdAt: number;
  lastActivity: number;
  archived: boolean;
  membersCanInvite: boolean;
  members: User[];
  unread: number;
  lastMessage: ChatMessage | null;
  /** "direct": the one chat between two people, titled with the other's name (peerId); no owner's powers. */
  kind: "meeting" | "direct";
  peerId: string | null;
}

export interface Invite {
  token: string;
  path: string;
  createdAt: number;
  expiresAt: number;
  /** How many joins the link allows in all, and how many it has had. */
  maxUses: number;
  uses: number;
  createdBy: string;
  createdByName: string;
}

export interface HistoryPage {
  messages: ChatMessage[];
  hasMore: boolean;
}

export type MeetingPatch = Partial<Pick<Meeting, "title" | "description" | "archived" | "membersCanInvite">>;

export interface MeetingsApi {
  list(): Promise<Meeting[]>;
  get(meetingId: string): Promise<Meeting>;
  create(title: string): Promise<Meeting>;
  update(meetingId: string, patch: MeetingPatch): Promise<Meeting>;
  addMember(meetingId: string, username: string): Promise<Meeting>;
  removeMember(meetingId: string, userId: string): Promise<void>;
  createInvite(meetingId: string, maxUses?: number): Promise<Invite>;
  /** The meeting's live invite links (the owner only). */
  listInvites(meetingId: string): Promise<Invite[]>;
  revokeInvite(meetingId: string, token: string): Promise<void>;
  acceptInvite(token: string): Promise<Meeting>;
  /** Newest first without a cursor or with `before`; oldest first with `after`. */
  history(meetingId: string, cursor?: { before?: string; after?: string; limit?: number }): Promise<HistoryPage>;
  call(meetingId: string): Promise<CallState>;
  /** The one direct chat with that person, made on first use. */
  openDirect(userId: string): Promise<Meeting>;
  /** A new meeting of a direct chat's two people and a third, which takes the direct chat's call. */
  groupFromDirect(meetingId: string, username: string): Promise<Meeting>;
}

export function createMeetingsApi(options: ApiClientOptions): MeetingsApi {
  const request = createApiRequest(options);
  const id = encodeURIComponent;
  const meeting = async (p: Promise<unknown>) => toMeeting(await p);

  return {
    list: async () => ((await request<{ meetings?: unknown[] }>("GET", "/api/meetings")).meetings ?? []).map(toMeeting),
    get: (meetingId) => meeting(request("GET", `/api/meetings/${id(meetingId)}`)),
    create: (title) => meeting(request("POST", "/api/meetings", { title })),
    update: (meetingId, patch) => meeting(request("PATCH", `/api/meetings/${id(meetingId)}`, patch)),
    addMember: (meetingId, username) => meeting(request("POST", `/api/meetings/${id(meetingId)}/members`, { username })),
    removeMember: (meetingId, userId) => request("DELETE", `/api/meetings/${id(meetingId)}/members/${id(userId)}`),
    createInvite: (meetingId, maxUses) =>
      request("POST", `/api/meetings/${id(meetingId)}/invites`, maxUses === undefined ? undefined : { maxUses }),
    listInvites: async (meetingId) =>
      (await request<{ invites?: Invite[] }>("GET", `/api/meetings/${id(meetingId)}/invites`)).invites ?? [],
    revokeInvite: (meetingId, token) => request("DELETE", `/api/meetings/${id(meetingId)}/invites/${id(token)}`),
    acceptInvite: (token) => meeting(request("POST", `/api/invites/${id(token)}/accept`)),
    groupFromDirect: (meetingId, username) =>
      meeting(request("POST", `/api/direct-chats/${id(meetingId)}/group`, { username })),
    history: async (meetingId, cursor = {}) => {
      const query = new URLSearchParams();
      if (cursor.before) query.set("before", cursor.before);
      if (cursor.after) query.set("after", cursor.after);
      if (cursor.limit) query.set("limit", String(cursor.limit));
      const qs = query.toString();
      const page = await request<{ messages?: unknown[]; hasMore?: unknown }>(
        "GET",
        `/api/meetings/${id(meetingId)}/messages${qs ? `?${qs}` : ""}`,
      );
      return {
        messages: (page.messages ?? []).map(parseChatMessage).filter((m): m is ChatMessage => m !== null),
        hasMore: page.hasMore === true,
      };
    },
    openDirect: (userId) => meeting(request("POST", "/api/direct-chats", { userId })),
    call: async (meetingId) => {
      const state = parseCallState(await request("GET", `/api/meetings/${id(meetingId)}/call`));
      return state ?? { meetingId, active: false, startedAt: 0, participants: [] };
    },
  };
}

function toMeeting(value: unknown): Meeting {
  const m = (value ?? {}) as Record<string, unknown>;
  return {
    meetingId: String(m.meetingId ?? ""),
    title: typeof m.title === "string" ? m.title : "",
    description: typeof m.description === "string" ? m.description : "",
    ownerId: typeof m.ownerId === "string" ? m.ownerId : "",
    createdAt: typeof m.createdAt === "number" ? m.createdAt : 0,
    lastActivity: typeof m.lastActivity === "number" ? m.lastActivity : 0,
    archived: m.archived === true,
    membersCanInvite: m.membersCanInvite !== false,
    members: Array.isArray(m.members) ? (m.members as User[]) : [],
    unread: typeof m.unread === "number" ? m.unread : 0,
    lastMessage: parseChatMessage(m.lastMessage),
    kind: m.kind === "direct" ? "direct" : "meeting",
    peerId: typeof m.peerId === "string" ? m.peerId : null,
  };
}
