// Changing a local account's password while signed in. The gateway checks the current password, ends every other
// sign-in of the user (their sockets close with 4410) and answers with a fresh token; the tab that asked passes its
// socket's session id so that socket stays open, and hands the fresh token to it like a renewed one.
import { ApiError, type ApiClient } from "../api/client";
import { type FieldErrors, newPasswordError } from "./validation";

export interface PasswordChangeFields {
  currentPassword: string;
  newPassword: string;
  confirmation: string;
}

export function validatePasswordChange(fields: PasswordChangeFields): FieldErrors<PasswordChangeFields> {
  const errors: FieldErrors<PasswordChangeFields> = {};
  if (!fields.currentPassword) errors.currentPassword = "Enter your current password.";
  const rule = newPasswordError(fields.newPassword);
  if (rule) errors.newPassword = rule;
  else if (fields.confirmation !== fields.newPassword) errors.confirmation = "The two new passwords don't match.";
  return errors;
}

/** Where a refused change is explained: next to one field, or above the form (field null). */
export interface PasswordChangeFailure {
  field: keyof PasswordChangeFields | null;
  message: string;
}

export function explainPasswordChangeFailure(error: unknown): PasswordChangeFailure {
  if (!(error instanceof ApiError)) return { field: null, message: "Something went wrong. Try again." };
  switch (error.code) {
    case "forbidden":
      return { field: "currentPassword", message: "That isn't your current password." };
    case "rate_limited":
      // The server says how long to wait.
      return { field: null, message: error.message || "Too many password changes. Try again later." };
    case "bad_request":
      // The password rule (the form checks it too, so this is a server with other rules) or a Firebase account.
      return /characters/.test(error.message)
        ? { field: "newPassword", message: error.message.replace(/^password/, "The new password") + "." }
        : { field: null, message: error.message };
    case "auth.invalid":
      return { field: null, message: "Your sign-in has ended. Sign in again to change your password." };
    default:
      return { field: null, message: error.message };
  }
}

/**
 * Sends the change; on success hands the fresh token on (stored and given to the open socket, as a renewal is).
 * `sessionId` is the open socket's, from its welcome; without it the socket ends with the other sign-ins.
 */
export async function changePassword(
  api: Pick<ApiClient, "changePassword">,
  fields: PasswordChangeFields,
  sessionId: string | null,
  onRenewed: (token: string) => void,
): Promise<void> {
  const result = await api.changePassword(fields.currentPassword, fields.newPassword, sessionId ?? undefined);
  onRenewed(result.token);
}
