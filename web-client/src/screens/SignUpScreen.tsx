import { type FormEvent, useState } from "react";
import { ApiError, type ApiClient, type AuthResult, describeAuthError } from "../api/client";
import { FirebaseEmailSignUpForm, GoogleSignInButton, OrDivider } from "../auth/FirebaseForms";
import { type FieldErrors, type SignUpFields, fieldNamedIn, normalizeUsername, validateSignUp } from "../auth/validation";
import { paths } from "../router";
import { Field } from "../ui/Field";
import { Link } from "../ui/Link";
import { AuthLayout } from "./AuthLayout";
import { useAuthProviders, useFirebaseSignIn } from "./useAuthProviders";

interface Props {
  api: ApiClient;
  onSignedIn: (result: AuthResult) => void;
}

const fieldNames = ["username", "displayName", "password"] as const;

/**
 * New accounts in the ways the server offers: with Firebase (Google, or email and password), where the first
 * sign-in creates the Parley account, and as a local Parley account.
 */
export function SignUpScreen({ api, onSignedIn }: Props) {
  const providers = useAuthProviders(api);
  const firebase = useFirebaseSignIn(api, providers?.firebase ?? null);

  return (
    <AuthLayout title="Create your account" subtitle="It takes a moment. You'll be signed in right away.">
      {providers === null ? (
        <p className="auth-loading" role="status">
          Loading sign-up options…
        </p>
      ) : (
        <div className="auth-methods">
          {firebase && (
            <>
              <GoogleSignInButton firebase={firebase} label="Sign up with Google" onSignedIn={onSignedIn} />
              <OrDivider label="or with email" />
              <FirebaseEmailSignUpForm firebase={firebase} onSignedIn={onSignedIn} autoFocus />
            </>
          )}
          {firebase && providers.local && <OrDivider label="or with a Parley username" />}
          {providers.local && <LocalSignUpForm api={api} onSignedIn={onSignedIn} autoFocus={!firebase} />}
          {!firebase && !providers.local && (
            <p className="notice">New accounts can't be created on this server.</p>
          )}
          <p className="form-footer">
            Already have an account? <Link href={paths.signIn}>Sign in</Link>
          </p>
        </div>
      )}
    </AuthLayout>
  );
}

function LocalSignUpForm({ api, onSignedIn, autoFocus }: Props & { autoFocus: boolean }) {
  const [fields, setFields] = useState<SignUpFields>({ username: "", displayName: "", password: "" });
  const [errors, setErrors] = useState<FieldErrors<SignUpFields>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (name: keyof SignUpFields) => (event: { target: { value: string } }) =>
    setFields((current) => ({ ...current, [name]: event.target.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = validateSignUp(fields);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      onSignedIn(await api.register(normalizeUsername(fields.username), fields.password, fields.displayName.trim()));
    } catch (error) {
      setBusy(false);
      if (error instanceof ApiError && error.code === "username.taken") {
        setErrors({ username: describeAuthError(error) });
      } else if (error instanceof ApiError && error.code === "bad_request") {
        const field = fieldNamedIn<SignUpFields>(error.message, fieldNames);
        if (field) setErrors({ [field]: error.message });
        else setFormError(error.message);
      } else {
        setFormError(describeAuthError(error));
      }
    }
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Create account">
      {formError && (
        <p className="form-error" role="alert">
          {formError}
        </p>
      )}
      <Field
        id="displayName"
        label="Your name"
        autoComplete="name"
        value={fields.displayName}
        onChange={set("displayName")}
        error={errors.displayName}
        hint="Shown to the people you meet."
        autoFocus={autoFocus}
      />
      <Field
        id="username"
        label="Username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        value={fields.username}
        onChange={set("username")}
        error={errors.username}
        hint="3–32 lowercase letters, digits, dots, dashes or underscores."
      />
      <Field
        id="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        value={fields.password}
        onChange={set("password")}
        error={errors.password}
        hint="At least 8 characters."
      />
      <button className="button button-primary button-block" type="submit" disabled={busy}>
        {busy ? "Creating account…" : "Create account"}
      </button>
    </form>
  );
}
