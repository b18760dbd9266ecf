import { useCallback, useEffect, useState } from "react";
import type { ApiClient, User } from "../api/client";

/**
 * The people I blocked (GET /api/blocks), read on every (re)connect, and blocking or unblocking someone. A failure
 * is reported in `error`; the list stays as the server last said.
 */
export function useBlocks(api: ApiClient, generation: string | null) {
  const [blocked, setBlocked] = useState<ReadonlySet<string>>(() => new Set());
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (generation === null) return;
    let live = true;
    api.blocked().then(
      (people) => live && setBlocked(new Set(people.map((p) => p.userId))),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api, generation]);

  const block = useCallback(
    async (person: User) => {
      setError(null);
      try {
        const people = await api.block(person.userId);
        setBlocked(new Set(people.map((p) => p.userId)));
      } catch (e) {
        setError(e instanceof Error ? e.message : `${person.displayName} couldn't be blocked.`);
      }
    },
    [api],
  );

  const unblock = useCallback(
    async (person: User) => {
      setError(null);
      try {
        await api.unblock(person.userId);
        setBlocked((current) => {
          const next = new Set(current);
          next.delete(person.userId);
          return next;
        });
      } catch (e) {
        setError(e instanceof Error ? e.message : `${person.displayName} couldn't be unblocked.`);
      }
    },
    [api],
  );

  return { blocked, block, unblock, error };
}
