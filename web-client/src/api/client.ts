// The gateway's REST API. Every error body is {"error":{"code","message"}}; callers get an ApiError
// carrying that code so screens can explain it in plain words.

export interface User {
  userId: string;
  username: string;
  displayName: string;
}

export interface AuthResult extends User {
  token: string;
}

export interface AuthConfig {
  providers: string[];
  /** Present when "firebase" is among the providers: what the Firebase JS SDK is initialised with. */
  firebase?: FirebaseWebConfig;
}

export interface FirebaseWebConfig {
  projectId: string;
  apiKey: string;
  authDomain: string;
  /** host:port of the Firebase Auth emulator, only on development and test servers. */
  emulatorHost?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** Origin prefix for requests; empty for same origin. */
  baseUrl?: string;
  fetch?: Fetch;
  /** The current session token, or null when signed out. */
  token: () => string | null;
}

export interface ApiClient {
  authConfig(): Promise<AuthConfig>;
  register(username: string, password: string, displayName: string): Promise<AuthResult>;
  login(username: string, password: string): Promise<AuthResult>;
  /** Exchanges a Firebase ID token for a Parley sign-in. */
  firebaseSignIn(idToken: string): Promise<AuthResult>;
  logout(): Promise<void>;
  /** Revokes every token of the user, on every device, this one included. */
  logoutEverywhere(): Promise<void>;
  /** A fresh token (new expiry) for the current local one. */
  refresh(): Promise<AuthResult>;
  /** Changes the password; every other sign-in ends, this tab gets a fresh token and keeps its session. */
  changePassword(currentPassword: string, newPassword: string, keepSessionId?: string): Promise<AuthResult>;
  me(): Promise<User>;
  users(): Promise<User[]>;
  /** Everyone, oldest account first, `limit` (1–500) at a time; `after`: the previous page's `next`. */
  usersPage(limit: number, after?: string | null): Promise<UserPage>;
  /** People whose username, name or a word of it starts with `query`, a page at a time (`after`: the last `next`). */
  searchUsers(query: string, after?: string | null): Promise<UserPage>;
  /** The people I blocked. */
  blocked(): Promise<User[]>;
  /** Blocks someone (no direct chat or calls between us; they see me offline); answers the new list. */
  block(userId: string): Promise<User[]>;
  unblock(userId: string): Promise<void>;
}

/** One page of GET /api/users: the people, and the cursor of the next page (null on the last). */
export interface UserPage {
  users: User[];
  next: string | null;
}

/** One JSON request to the gateway; failures become an ApiError with the server's code. */
export type ApiRequest = <T>(method: string, path: string, body?: unknown, authenticated?: boolean) => Promise<T>;

export function createApiRequest(options: ApiClientOptions): ApiRequest {
  const baseUrl = options.baseUrl ?? "";
  const doFetch: Fetch = options.fetch ?? ((input, init) => fetch(input, init));

  return async function request<T>(method: string, path: string, body?: unknown, authenticated = true): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const token = options.token();
    if (authenticated && token) headers.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await doFetch(baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "network", "Parley can't be reached right now. Check your connection and try again.");
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const json = parseJson(text);
    if (!response.ok) throw errorFrom(response.status, json);
    return json as T;
  };
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const request = createApiRequest(options);
  return {
    authConfig: () => request<AuthConfig>("GET", "/api/auth/config", undefined, false),
    register: (username, password, displayName) =>
      request<AuthResult>("POST", "/api/auth/register", { username, password, displayName }, false),
    login: (username, password) => request<AuthResult>("POST", "/api/auth/login", { username, password }, false),
    firebaseSignIn: (idToken) => request<AuthResult>("POST", "/api/auth/firebase", { idToken }, false),
    logout: () => request<void>("POST", "/api/auth/logout"),
    logoutEverywhere: () => request<void>("POST", "/api/auth/logout-everywhere"),
    refresh: () => request<AuthResult>("POST", "/api/auth/refresh"),
    changePassword: (currentPassword, newPassword, keepSessionId) =>
      request<AuthResult>("POST", "/api/auth/password", { currentPassword, newPassword, keepSessionId }),
    me: () => request<User>("GET", "/api/me"),
    users: async () => (await request<{ users: User[] }>("GET", "/api/users")).users,
    usersPage: (limit, after) =>
      request<UserPage>("GET", `/api/users?limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ""}`),
    searchUsers: (query, after) =>
      request<UserPage>(
        "GET",
        `/api/users?q=${encodeURIComponent(query.slice(0, 100))}&limit=50${after ? `&after=${encodeURIComponent(after)}` : ""}`,
      ),
    blocked: async () => (await request<{ blocked: User[] }>("GET", "/api/blocks")).blocked,
    block: async (userId) => (await request<{ blocked: User[] }>("POST", "/api/blocks", { userId })).blocked,
    unblock: (userId) => request<void>("DELETE", `/api/blocks/${encodeURIComponent(userId)}`),
  };
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorFrom(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === "string" ? error.code : `http.${status}`;
  const message = typeof error?.message === "string" && error.message ? error.message : fallbackMessage(status);
  return new ApiError(status, code, message);
}

function fallbackMessage(status: number): string {
  if (status === 401) return "Your sign-in is no longer valid. Please sign in again.";
  if (status === 429) return "Too many attempts. Wait a moment and try again.";
  if (status >= 500) return "Parley ran into a problem on the server. Try again in a moment.";
  return `The request failed (HTTP ${status}).`;
}

/** Words for the sign-in and sign-up forms; the server's message is the fallback. */
export function describeAuthError(error: unknown): string {
  if (!(error instanceof ApiError)) return "Something went wrong. Try again.";
  switch (error.code) {
    case "auth.invalid":
      return "That username and password don't match an account.";
    case "username.taken":
      return "That username is taken. Choose another one.";
    case "rate_limited":
      // The server says how long to wait (sign-in back-off grows from seconds to minutes).
      return error.message.startsWith("Too many") ? error.message : "Too many attempts. Wait a minute and try again.";
    default:
      return error.message;
  }
}
