import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiClient, type User } from "../api/client";

const refreshMs = 30_000;
/** People per page of the directory; "Show more" loads the next. */
export const directoryPage = 50;
/** The most a refresh reads again at once (the server's largest page). */
const refreshAtMost = 500;

/**
 * The people on the server, a page at a time (GET /api/users?limit=&after=), so a server of many thousands is never
 * listed whole: the first page on every (re)connect (`generation`), more on `loadMore`. While connected, the pages
 * loaded (up to 500 people) are read again now and then, so people who join later and new names appear.
 */
export function useDirectory(api: ApiClient, active: boolean, generation: string | null) {
  const [users, setUsers] = useState<User[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const loaded = useRef(0);
  const token = useRef(0);

  useEffect(() => {
    if (!active) return;
    let live = true;
    const mine = ++token.current;
    const load = () =>
      api.usersPage(Math.min(refreshAtMost, Math.max(directoryPage, loaded.current))).then(
        (page) => {
          if (!live || token.current !== mine) return;
          // Beyond what one request reads again, keep the later pages as they were.
          setUsers((current) => {
            const fresh = page.users;
            const beyond = (current ?? []).slice(refreshAtMost).filter((u) => !fresh.some((f) => f.userId === u.userId));
            const all = [...fresh, ...beyond];
            loaded.current = all.length;
            return all;
          });
          if (loaded.current <= refreshAtMost) setNext(page.next);
          setError(null);
        },
        () => live && setError("The list of people couldn't be loaded. It will be tried again shortly."),
      );
    void load();
    const timer = setInterval(load, refreshMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, active, generation]);

  const loadMore = useCallback(() => {
    if (next === null || loading) return;
    const mine = token.current;
    setLoading(true);
    api.usersPage(directoryPage, next).then(
      (page) => {
        setLoading(false);
        if (token.current !== mine) return;
        setUsers((current) => {
          const known = new Set((current ?? []).map((u) => u.userId));
          const all = [...(current ?? []), ...page.users.filter((u) => !known.has(u.userId))];
          loaded.current = all.length;
          return all;
        });
        setNext(page.next);
      },
      () => {
        setLoading(false);
        setError("More people couldn't be loaded. Try again.");
      },
    );
  }, [api, next, loading]);

  return { users, error, more: next !== null, loading, loadMore };
}
