// The account rules the gateway enforces, checked before sending so people see them next to the field.

export interface SignUpFields {
  username: string;
  displayName: string;
  password: string;
}

export type FieldErrors<T> = Partial<Record<keyof T, string>>;

const usernamePattern = /^[a-z0-9._-]{3,32}$/;

export function normalizeUsername(value: string): string {
  return value.trim().toLowerCase();
}

export function validateSignUp(fields: SignUpFields): FieldErrors<SignUpFields> {
  const errors: FieldErrors<SignUpFields> = {};
  const username = normalizeUsername(fields.username);
  if (!username) errors.username = "Choose a username.";
  else if (username.length < 3 || username.length > 32) errors.username = "Use 3 to 32 characters.";
  else if (!usernamePattern.test(username)) errors.username = "Use only letters, digits, dots, dashes and underscores.";
  const displayName = fields.displayName.trim();
  if (!displayName) errors.displayName = "Enter the name people will see.";
  else if ([...displayName].length > 64) errors.displayName = "Use at most 64 characters.";
  const password = newPasswordError(fields.password);
  if (password) errors.password = password;
  return errors;
}

/** What is wrong with a new password of a local account (the gateway's rule: 8 to 256 characters), or null. */
export function newPasswordError(password: string): string | null {
  if (password.length < 8) return "Use at least 8 characters.";
  if (password.length > 256) return "Use at most 256 characters.";
  return null;
}

export function validateSignIn(fields: { username: string; password: string }): FieldErrors<typeof fields> {
  const errors: FieldErrors<typeof fields> = {};
  if (!normalizeUsername(fields.username)) errors.username = "Enter your username.";
  if (!fields.password) errors.password = "Enter your password.";
  return errors;
}

/** Maps a gateway bad_request message that names a field onto that field. */
export function fieldNamedIn<T extends object>(message: string, fields: readonly (keyof T & string)[]): keyof T | null {
  const lower = message.toLowerCase();
  return fields.find((field) => lower.includes(field.toLowerCase())) ?? null;
}

export interface EmailSignUpFields {
  displayName: string;
  email: string;
  password: string;
}

// Deliberately loose: Firebase has the last word on what an address is.
const emailPattern = /^[^\s@]+@[^\s@]+$/;

export function validateEmailSignIn(fields: { email: string; password: string }): FieldErrors<typeof fields> {
  const errors: FieldErrors<typeof fields> = {};
  const email = fields.email.trim();
  if (!email) errors.email = "Enter your email address.";
  else if (!emailPattern.test(email)) errors.email = "Enter a valid email address.";
  if (!fields.password) errors.password = "Enter your password.";
  return errors;
}

export function validateEmailSignUp(fields: EmailSignUpFields): FieldErrors<EmailSignUpFields> {
  const errors: FieldErrors<EmailSignUpFields> = validateEmailSignIn(fields);
  const displayName = fields.displayName.trim();
  if (!displayName) errors.displayName = "Enter the name people will see.";
  else if ([...displayName].length > 64) errors.displayName = "Use at most 64 characters.";
  // Firebase's own minimum; a project may ask for more, and says so when it does.
  if (fields.password && fields.password.length < 6) errors.password = "Use at least 6 characters.";
  return errors;
}
