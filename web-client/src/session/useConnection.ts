import { useEffect, useMemo, useRef, useState } from "react";
import { type PresenceMap, applyPresence } from "../presence/presence";
import { Connection, type ConnectionState, type SessionIdStore, socketUrl } from "../ws/connection";

/**
 * The tab's gateway connection: started on mount, stopped on unmount or sign-out. A renewed token is handed to the
 * open socket rather than opening a new one, so a call on it carries on.
 */
export function useConnection(token: string, sessionIds: SessionIdStore) {
  const firstToken = useRef(token);
  const connection = useMemo(
    () => new Connection({ url: socketUrl(window.location), token: firstToken.current, sessionIds }),
    [sessionIds],
  );

  useEffect(() => {
    // A refused renewal changes nothing: the socket ends with its old token and says why.
    connection.renewToken(token).catch(() => undefined);
  }, [connection, token]);
  const [state, setState] = useState<ConnectionState>(connection.current);
  const [presence, setPresence] = useState<PresenceMap>(() => new Map());

  useEffect(() => {
    const offState = connection.onState(setState);
    const offMessage = connection.onMessage((message) => {
      if (message.type === "presence") {
        setPresence((current) => applyPresence(current, message.userId, message.status));
      }
    });
    const onOnline = () => connection.reconnectNow();
    window.addEventListener("online", onOnline);
    connection.start();
    return () => {
      window.removeEventListener("online", onOnline);
      offState();
      offMessage();
      connection.stop();
    };
  }, [connection]);

  return { connection, state, presence };
}
