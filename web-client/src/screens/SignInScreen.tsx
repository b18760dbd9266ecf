import { type FormEvent, useState } from "react";
import { type ApiClient, type AuthResult, describeAuthError } from "../api/client";
import { type FieldErrors, normalizeUsername, validateSignIn } from "../auth/validation";
import { paths } from "../router";
import { Field } from "../ui/Field";
import { Link } from "../ui/Link";
import { AuthLayout } from "./AuthLayout";
import { useLocalSignInAvailable } from "./useAuthProviders";

interface Props {
  api: ApiClient;
  notice?: string | null;
  onSignedIn: (result: AuthResult) => void;
}

export function SignInScreen({ api, notice, onSignedIn }: Props) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FieldErrors<{ username: string; password: string }>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const localAvailable = useLocalSignInAvailable(api);

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
    <AuthLayout title="Sign in" subtitle="Welcome back. Sign in to see who's around.">
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {localAvailable ? (
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
            autoFocus
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
          <p className="form-footer">
            New to Parley? <Link href={paths.signUp}>Create an account</Link>
          </p>
        </form>
      ) : (
        <p className="notice">Signing in with a username and password is turned off on this server.</p>
      )}
    </AuthLayout>
  );
}
