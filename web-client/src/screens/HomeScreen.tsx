import { useId, useMemo, useState } from "react";
import type { ApiClient, User } from "../api/client";
import { type PresenceMap, isAround, peopleRows, statusLabel } from "../presence/presence";
import { usePeopleSearch } from "../session/usePeopleSearch";
import { Avatar } from "../ui/Avatar";
import { RingButtons } from "../call/RingButtons";
import type { RingMedia } from "../ws/messages";

interface Props {
  self: User;
  users: readonly User[] | null;
  /** The directory has more people than shown, and how to load them. */
  directoryMore?: { more: boolean; loading: boolean; loadMore: () => void };
  presence: PresenceMap;
  loadError: string | null;
  api: ApiClient;
  /** Opens the direct chat with someone (made on first use). */
  onChat: (person: User) => Promise<void>;
  /** Rings someone for a direct call. */
  onCall: (person: User, media: RingMedia) => void;
  /** The people I blocked, and blocking or unblocking someone. */
  blocks: {
    blocked: ReadonlySet<string>;
    block: (person: User) => Promise<void>;
    unblock: (person: User) => Promise<void>;
    error: string | null;
  };
}

/**
 * The home screen: a greeting and the people on this server with whether they are online. Without a search it lists
 * the directory a page at a time ("Show more people"); a search asks the server, so it finds anyone however many
 * people there are.
 */
export function HomeScreen({ self, users, presence, loadError, api, onChat, onCall, blocks, directoryMore }: Props) {
  const [filter, setFilter] = useState("");
  const [chatError, setChatError] = useState<string | null>(null);
  const [opening, setOpening] = useState<string | null>(null);
  const chat = async (person: User) => {
    setChatError(null);
    setOpening(person.userId);
    try {
      await onChat(person);
    } catch (e) {
      setChatError(e instanceof Error ? e.message : `The chat with ${person.displayName} couldn't be opened.`);
      setOpening(null);
    }
  };
  const filterId = useId();
  const search = usePeopleSearch(api, filter);
  const searching = filter.trim() !== "";
  const everyone = useMemo(() => users ?? [self], [users, self]);
  const shown = useMemo(() => (searching ? (search.results ?? []) : everyone), [searching, search.results, everyone]);
  const rows = useMemo(() => peopleRows(shown, presence, self.userId), [shown, presence, self]);
  const onlineCount = useMemo(
    () => everyone.filter((u) => u.userId !== self.userId && isAround(presence.get(u.userId))).length,
    [everyone, presence, self],
  );

  return (
    <div className="page">
      <section className="hero" aria-labelledby="greeting">
        <h2 id="greeting" className="hero-title">
          Hello, {self.displayName}
        </h2>
        <p className="hero-text">
          {onlineCount === 0
            ? "Nobody else is online right now."
            : onlineCount === 1
              ? "1 other person is online."
              : `${onlineCount} other people are online.`}
        </p>
      </section>

      <section className="card" aria-labelledby="people-heading">
        <div className="card-head">
          <h2 id="people-heading" className="card-title">
            People
          </h2>
          <div className="search">
            <label htmlFor={filterId} className="visually-hidden">
              Search people
            </label>
            <input
              id={filterId}
              type="search"
              placeholder="Search by name"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
            />
          </div>
        </div>
        {loadError && (
          <p className="card-message" role="status">
            {loadError}
          </p>
        )}
        {users === null && !loadError && !searching && <p className="card-message">Loading people…</p>}
        {(chatError ?? blocks.error) && (
          <p className="card-message" role="alert">
            {chatError ?? blocks.error}
          </p>
        )}
        {searching && search.error && (
          <p className="card-message" role="alert">
            {search.error}
          </p>
        )}
        {searching && search.results === null && !search.error && <p className="card-message">Searching…</p>}
        {rows.length === 0 && (searching ? search.results !== null : users !== null) ? (
          <p className="card-message">Nobody matches “{filter.trim()}”.</p>
        ) : (
          <ul className="people" aria-label="People on this server">
            {rows.map(({ user, status, isSelf }) => (
              <li key={user.userId} className="person" data-username={user.username} data-status={status}>
                <Avatar id={user.userId} name={user.displayName} status={status} />
                <div className="person-text">
                  <span className="person-name">
                    {user.displayName}
                    {isSelf && <span className="tag">You</span>}
                  </span>
                  <span className="person-handle">@{user.username}</span>
                </div>
                <span className={`person-status status-${status}`}>{statusLabel(status)}</span>
                {!isSelf && blocks.blocked.has(user.userId) && (
                  <span className="person-actions">
                    <span className="tag tag-blocked">Blocked</span>
                    <button
                      className="button button-ghost button-small"
                      type="button"
                      onClick={() => void blocks.unblock(user)}
                      aria-label={`Unblock ${user.displayName}`}
                    >
                      Unblock
                    </button>
                  </span>
                )}
                {!isSelf && !blocks.blocked.has(user.userId) && (
                  <span className="person-actions">
                    <button
                      className="button button-secondary button-small"
                      type="button"
                      disabled={opening === user.userId}
                      onClick={() => void chat(user)}
                      aria-label={`Chat with ${user.displayName}`}
                    >
                      Chat
                    </button>
                    <RingButtons person={user} onRing={onCall} compact />
                    <button
                      className="button button-ghost button-small"
                      type="button"
                      onClick={() => void blocks.block(user)}
                      aria-label={`Block ${user.displayName}`}
                      title="Block: no chats or calls between you; they see you offline"
                    >
                      Block
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
        {!searching && directoryMore?.more && (
          <div className="card-foot">
            <button className="button button-secondary button-small" type="button" disabled={directoryMore.loading} onClick={directoryMore.loadMore}>
              Show more people
            </button>
          </div>
        )}
        {searching && search.more && (
          <div className="card-foot">
            <button className="button button-secondary button-small" type="button" disabled={search.loading} onClick={search.loadMore}>
              Show more
            </button>
          </div>
        )}
      </section>
    </div>
  );
}
