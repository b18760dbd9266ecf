import { useCallback, useEffect, useRef, useState } from "react";
import type { ApiClient, User } from "../api/client";

const debounceMs = 250;

export interface PeopleSearch {
  /** Everyone found so far for the query, in the order the server gave, each once; null while the first page loads. */
  results: User[] | null;
  /** Whether the server has more pages. */
  more: boolean;
  loading: boolean;
  error: string | null;
  loadMore(): void;
}

/**
 * People search on the server (GET /api/users?q=), so it reaches everyone however many they are: the first page a
 * moment after typing stops, the next ones on demand, merged by user id (a person can match on several pages).
 */
export function usePeopleSearch(api: ApiClient, query: string): PeopleSearch {
  const trimmed = query.trim();
  const [results, setResults] = useState<User[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Bumped for every new query: an answer to an older one is left unread.
  const queryToken = useRef(0);

  const fetchPage = useCallback(
    (after: string | null) => {
      const token = queryToken.current;
      setLoading(true);
      api.searchUsers(trimmed, after).then(
        (page) => {
          if (token !== queryToken.current) return;
          setResults((previous) => mergeById(after ? (previous ?? []) : [], page.users));
          setNext(page.next);
          setError(null);
          setLoading(false);
        },
        () => {
          if (token !== queryToken.current) return;
          setError("The search didn't go through. Try again in a moment.");
          setLoading(false);
        },
      );
    },
    [api, trimmed],
  );

  useEffect(() => {
    queryToken.current++;
    setResults(null);
    setNext(null);
    setError(null);
    if (!trimmed) return;
    const timer = setTimeout(() => fetchPage(null), debounceMs);
    return () => {
      queryToken.current++;
      clearTimeout(timer);
    };
  }, [trimmed, fetchPage]);

  const loadMore = () => {
    if (next) fetchPage(next);
  };
  return { results, more: next !== null, loading, error, loadMore };
}

/** `found` appended to `known`, without anyone twice. */
export function mergeById(known: readonly User[], found: readonly User[]): User[] {
  const seen = new Set(known.map((u) => u.userId));
  const merged = [...known];
  for (const user of found) {
    if (!seen.has(user.userId)) {
      seen.add(user.userId);
      merged.push(user);
    }
  }
  return merged;
}
