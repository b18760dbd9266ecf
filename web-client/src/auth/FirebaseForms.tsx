// The Firebase parts of the sign-in and sign-up pages: "Sign in with Google" and the email forms.
import type { AuthResult } from "../api/client";
import "./auth.css";
import { AuthForm, DisplayNameField, EmailField, FormError, PasswordField, useAttempt, useFormFields } from "./forms";
import { type FirebaseMethod, type FirebaseSignIn, describeFirebaseError } from "./firebase";
import { type EmailSignUpFields, validateEmailSignIn, validateEmailSignUp } from "./validation";

interface FirebaseProps {
  firebase: FirebaseSignIn;
  onSignedIn: (result: AuthResult) => void;
}

/** Runs one Firebase sign-in at a time. A cancelled sign-in (the Google window closed) just ends quietly. */
function useFirebaseAttempt({ firebase, onSignedIn }: FirebaseProps) {
  const { busy, error, run } = useAttempt();
  const attempt = (method: FirebaseMethod) => run(async () => onSignedIn(await firebase.signIn(method)), describeFirebaseError);
  return { busy, error, attempt };
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
  const form = useFormFields({ email: "", password: "" });
  const { busy, error, attempt } = useFirebaseAttempt(props);

  const submit = () => {
    if (form.check(validateEmailSignIn)) void attempt({ kind: "email", email: form.values.email.trim(), password: form.values.password });
  };

  return (
    <AuthForm label="Sign in with email" error={error} busy={busy} submitLabel="Sign in with email" busyLabel="Signing in…" onSubmit={submit}>
      <EmailField form={form} id="firebase-email" autoFocus={autoFocus} />
      <PasswordField form={form} id="firebase-password" />
    </AuthForm>
  );
}

export function FirebaseEmailSignUpForm({ autoFocus, ...props }: FirebaseProps & { autoFocus?: boolean }) {
  const form = useFormFields<EmailSignUpFields>({ displayName: "", email: "", password: "" });
  const { busy, error, attempt } = useFirebaseAttempt(props);

  const submit = () => {
    if (!form.check(validateEmailSignUp)) return;
    const { email, password, displayName } = form.values;
    void attempt({ kind: "email-sign-up", email: email.trim(), password, displayName: displayName.trim() });
  };

  return (
    <AuthForm
      label="Create account with email"
      error={error}
      busy={busy}
      submitLabel="Create account with email"
      busyLabel="Creating account…"
      onSubmit={submit}
    >
      <DisplayNameField form={form} id="firebase-display-name" autoFocus={autoFocus} />
      <EmailField form={form} id="firebase-email" />
      <PasswordField form={form} id="firebase-password" rule="At least 6 characters." />
    </AuthForm>
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
