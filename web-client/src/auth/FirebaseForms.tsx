// The Firebase parts of the sign-in and sign-up pages: "Sign in with Google" and the email forms.
import { type FormEvent, useState } from "react";
import type { AuthResult } from "../api/client";
import { Field } from "../ui/Field";
import "./auth.css";
import { type FirebaseMethod, type FirebaseSignIn, describeFirebaseError } from "./firebase";
import { type EmailSignUpFields, type FieldErrors, validateEmailSignIn, validateEmailSignUp } from "./validation";

interface FirebaseProps {
  firebase: FirebaseSignIn;
  onSignedIn: (result: AuthResult) => void;
}

/**
 * Runs one Firebase sign-in at a time and keeps what to tell the person. A cancelled sign-in (the Google window
 * closed) just ends quietly.
 */
function useFirebaseAttempt({ firebase, onSignedIn }: FirebaseProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const attempt = async (method: FirebaseMethod) => {
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await firebase.signIn(method));
    } catch (failure) {
      setError(describeFirebaseError(failure));
      setBusy(false);
    }
  };
  return { busy, error, attempt };
}

function FormError({ message }: { message: string | null }) {
  return message ? (
    <p className="form-error" role="alert">
      {message}
    </p>
  ) : null;
}

export function GoogleSignInButton({ label, ...props }: FirebaseProps & { label: string }) {
  const { busy, error, attempt } = useFirebaseAttempt(props);
  return (
    <div className="provider-google">
      <FormError message={error} />
      <button
        className="button button-secondary button-block button-provider"
        type="button"
        disabled={busy}
        onClick={() => attempt({ kind: "google" })}
      >
        <GoogleMark />
        {busy ? "Waiting for Google…" : label}
      </button>
    </div>
  );
}

export function FirebaseEmailSignInForm({ autoFocus, ...props }: FirebaseProps & { autoFocus?: boolean }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FieldErrors<{ email: string; password: string }>>({});
  const { busy, error, attempt } = useFirebaseAttempt(props);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validateEmailSignIn({ email, password });
    setErrors(found);
    if (Object.keys(found).length === 0) void attempt({ kind: "email", email: email.trim(), password });
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Sign in with email">
      <FormError message={error} />
      <Field
        id="firebase-email"
        label="Email"
        type="email"
        autoComplete="email"
        autoCapitalize="none"
        spellCheck={false}
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={errors.email}
        autoFocus={autoFocus}
      />
      <Field
        id="firebase-password"
        label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.password}
      />
      <button className="button button-primary button-block" type="submit" disabled={busy}>
        {busy ? "Signing in…" : "Sign in with email"}
      </button>
    </form>
  );
}

export function FirebaseEmailSignUpForm({ autoFocus, ...props }: FirebaseProps & { autoFocus?: boolean }) {
  const [fields, setFields] = useState<EmailSignUpFields>({ displayName: "", email: "", password: "" });
  const [errors, setErrors] = useState<FieldErrors<EmailSignUpFields>>({});
  const { busy, error, attempt } = useFirebaseAttempt(props);

  const set = (name: keyof EmailSignUpFields) => (event: { target: { value: string } }) =>
    setFields((current) => ({ ...current, [name]: event.target.value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validateEmailSignUp(fields);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    void attempt({
      kind: "email-sign-up",
      email: fields.email.trim(),
      password: fields.password,
      displayName: fields.displayName.trim(),
    });
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Create account with email">
      <FormError message={error} />
      <Field
        id="firebase-display-name"
        label="Your name"
        autoComplete="name"
        value={fields.displayName}
        onChange={set("displayName")}
        error={errors.displayName}
        hint="Shown to the people you meet."
        autoFocus={autoFocus}
      />
      <Field
        id="firebase-email"
        label="Email"
        type="email"
        autoComplete="email"
        autoCapitalize="none"
        spellCheck={false}
        value={fields.email}
        onChange={set("email")}
        error={errors.email}
      />
      <Field
        id="firebase-password"
        label="Password"
        type="password"
        autoComplete="new-password"
        value={fields.password}
        onChange={set("password")}
        error={errors.password}
        hint="At least 6 characters."
      />
      <button className="button button-primary button-block" type="submit" disabled={busy}>
        {busy ? "Creating account…" : "Create account with email"}
      </button>
    </form>
  );
}

/** A rule with words in the middle, between two ways of signing in. */
export function OrDivider({ label }: { label: string }) {
  return (
    <p className="auth-divider">
      <span>{label}</span>
    </p>
  );
}

function GoogleMark() {
  return (
    <svg width="18" height="18" viewBox="0 0 48 48" aria-hidden="true">
      <path
        fill="#EA4335"
        d="M24 9.5c3.5 0 6.7 1.2 9.1 3.6l6.8-6.8C35.8 2.4 30.3 0 24 0 14.6 0 6.6 5.4 2.7 13.3l7.9 6.2C12.5 13.6 17.8 9.5 24 9.5z"
      />
      <path
        fill="#4285F4"
        d="M46.1 24.5c0-1.6-.1-3.1-.4-4.5H24v9h12.4c-.5 2.9-2.2 5.3-4.6 7l7.4 5.7c4.3-4 6.9-9.9 6.9-17.2z"
      />
      <path
        fill="#FBBC05"
        d="M10.5 28.6c-.5-1.4-.8-3-.8-4.6s.3-3.2.8-4.6l-7.9-6.2C1 16.5 0 20.1 0 24s1 7.5 2.7 10.7l7.8-6.1z"
      />
      <path
        fill="#34A853"
        d="M24 48c6.5 0 11.9-2.1 15.9-5.8l-7.4-5.7c-2.1 1.4-4.8 2.2-8.5 2.2-6.2 0-11.5-4.2-13.4-9.9l-7.9 6.1C6.6 42.6 14.6 48 24 48z"
      />
    </svg>
  );
}
