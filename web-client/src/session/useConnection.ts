import { useEffect, useMemo, useState } from "react";
import { type PresenceMap, applyPresence } from "../presence/presence";
import { Connection, type ConnectionState, type SessionIdStore, socketUrl } from "../ws/connection";

/** The tab's gateway connection for this token: started on mount, stopped on unmount or sign-out. */
export function useConnection(token: string, sessionIds: SessionIdStore) {
  const connection = useMemo(
    () => new Connection({ url: socketUrl(window.location), token, sessionIds }),
    [token, sessionIds],
  );
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
