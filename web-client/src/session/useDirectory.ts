import { useEffect, useState } from "react";
import { type ApiClient, type User } from "../api/client";

const refreshMs = 15_000;

/**
 * Everyone on the server, from GET /api/users. It is fetched again while the tab is connected so
 * people who join later appear; `generation` changes on every (re)connect to fetch at once.
 */
export function useDirectory(api: ApiClient, active: boolean, generation: string | null) {
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!active) return;
    let live = true;
    const load = () =>
      api.users().then(
        (list) => {
          if (!live) return;
          setUsers(list);
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

  return { users, error };
}
