// Where the client keeps what it knows between page loads. The sign-in (token) is shared by every tab
// in localStorage; the WebSocket session id lives in sessionStorage, so only a reload of the same tab
// resumes the session, while a second tab is a second session and meets the single-session rule.
import type { AuthResult, User } from "../api/client";
import type { SessionIdStore } from "../ws/connection";

export interface SignedIn {
  token: string;
  user: User;
}

const authKey = "parley.auth";
const sessionIdKey = "parley.sessionId";

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export class AuthStore {
  constructor(private readonly storage: KeyValueStorage) {}

  load(): SignedIn | null {
    const raw = this.storage.getItem(authKey);
    if (!raw) return null;
    try {
      const value = JSON.parse(raw) as Partial<SignedIn>;
      if (typeof value.token !== "string" || !value.user || typeof value.user.userId !== "string") return null;
      return { token: value.token, user: value.user };
    } catch {
      return null;
    }
  }

  save(result: AuthResult): SignedIn {
    const signedIn: SignedIn = {
      token: result.token,
      user: { userId: result.userId, username: result.username, displayName: result.displayName },
    };
    this.storage.setItem(authKey, JSON.stringify(signedIn));
    return signedIn;
  }

  /** Keeps the sign-in, with a renewed token. */
  updateToken(token: string): SignedIn | null {
    const current = this.load();
    if (!current) return null;
    const renewed = { ...current, token };
    this.storage.setItem(authKey, JSON.stringify(renewed));
    return renewed;
  }

  updateUser(user: User): void {
    const current = this.load();
    if (current) this.storage.setItem(authKey, JSON.stringify({ ...current, user }));
  }

  clear(): void {
    this.storage.removeItem(authKey);
  }
}

export function sessionIdStore(storage: KeyValueStorage): SessionIdStore {
  return {
    get: () => storage.getItem(sessionIdKey),
    set: (sessionId) => storage.setItem(sessionIdKey, sessionId),
    clear: () => storage.removeItem(sessionIdKey),
  };
}
