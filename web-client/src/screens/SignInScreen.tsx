import { type FormEvent, useState } from "react";
import { type ApiClient, type AuthResult, describeAuthError } from "../api/client";
import { FirebaseEmailSignInForm, GoogleSignInButton, OrDivider } from "../auth/FirebaseForms";
import { type FieldErrors, normalizeUsername, validateSignIn } from "../auth/validation";
import { paths } from "../router";
import { Field } from "../ui/Field";
import { Link } from "../ui/Link";
import { AuthLayout } from "./AuthLayout";
import { useAuthProviders, useFirebaseSignIn } from "./useAuthProviders";

interface Props {
  api: ApiClient;
  notice?: string | null;
  onSignedIn: (result: AuthResult) => void;
}

/** Offers exactly the sign-in methods the server has turned on: Firebase (Google, email) and local accounts. */
export function SignInScreen({ api, notice, onSignedIn }: Props) {
  const providers = useAuthProviders(api);
  const firebase = useFirebaseSignIn(api, providers?.firebase ?? null);

  return (
    <AuthLayout title="Sign in" subtitle="Welcome back. Sign in to see who's around.">
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {providers === null ? (
        <p className="auth-loading" role="status">
          Loading sign-in options…
        </p>
      ) : (
        <div className="auth-methods">
          {firebase && (
            <>
              <GoogleSignInButton firebase={firebase} label="Sign in with Google" onSignedIn={onSignedIn} />
              <OrDivider label="or with email" />
              <FirebaseEmailSignInForm firebase={firebase} onSignedIn={onSignedIn} autoFocus />
            </>
          )}
          {firebase && providers.local && <OrDivider label="or with a Parley username" />}
          {providers.local && <LocalSignInForm api={api} onSignedIn={onSignedIn} autoFocus={!firebase} />}
          {firebase || providers.local ? (
            <p className="form-footer">
              New to Parley? <Link href={paths.signUp}>Create an account</Link>
            </p>
          ) : (
            <p className="notice">Signing in is turned off on this server.</p>
          )}
        </div>
      )}
    </AuthLayout>
  );
}

function LocalSignInForm({ api, onSignedIn, autoFocus }: Omit<Props, "notice"> & { autoFocus: boolean }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FieldErrors<{ username: string; password: string }>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = validateSignIn({ username, password });
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      onSignedIn(await api.login(normalizeUsername(username), password));
    } catch (error) {
      setFormError(describeAuthError(error));
      setBusy(false);
    }
  };

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Sign in">
      {formError && (
        <p className="form-error" role="alert">
          {formError}
        </p>
      )}
      <Field
        id="username"
        label="Username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        error={errors.username}
        autoFocus={autoFocus}
      />
      <Field
        id="password"
        label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.password}
      />
      <button className="button button-primary button-block" type="submit" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
