import { useId, useMemo, useState } from "react";
import type { User } from "../api/client";
import { type PresenceMap, peopleRows, statusLabel } from "../presence/presence";
import { Avatar } from "../ui/Avatar";

interface Props {
  self: User;
  users: readonly User[] | null;
  presence: PresenceMap;
  loadError: string | null;
}

/** The home screen: a greeting and everyone on this server with whether they are online. */
export function HomeScreen({ self, users, presence, loadError }: Props) {
  const [filter, setFilter] = useState("");
  const filterId = useId();
  const everyone = useMemo(() => users ?? [self], [users, self]);
  const rows = useMemo(() => peopleRows(everyone, presence, self.userId, filter), [everyone, presence, self, filter]);
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
              Filter people
            </label>
            <input
              id={filterId}
              type="search"
              placeholder="Filter by name"
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
        {users === null && !loadError && <p className="card-message">Loading people…</p>}
        {rows.length === 0 && users !== null ? (
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
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function isAround(status: string | undefined): boolean {
  return status === "online" || status === "in-call";
}
