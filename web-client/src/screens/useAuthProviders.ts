import { useEffect, useState } from "react";
import type { ApiClient } from "../api/client";

/**
 * Whether the server offers username-and-password accounts. Until the answer arrives, and if the
 * question fails, the form is shown: the server still has the last word when the form is sent.
 */
export function useLocalSignInAvailable(api: ApiClient): boolean {
  const [available, setAvailable] = useState(true);
  useEffect(() => {
    let live = true;
    api.authConfig().then(
      (config) => live && setAvailable(config.providers.includes("local")),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api]);
  return available;
}
