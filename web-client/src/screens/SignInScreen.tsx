import { type ApiClient, type AuthResult, describeAuthError } from "../api/client";
import { FirebaseEmailSignInForm } from "../auth/FirebaseForms";
import { normalizeUsername, validateSignIn } from "../auth/validation";
import { paths } from "../router";
import { AuthForm, PasswordField, UsernameField, useAttempt, useFormFields } from "../auth/forms";
import { Link } from "../ui/Link";
import { AuthLayout } from "./AuthLayout";
import { type AuthPage, AuthMethods } from "./AuthMethods";

interface Props {
  api: ApiClient;
  notice?: string | null;
  onSignedIn: (result: AuthResult) => void;
}

/** Offers exactly the sign-in methods the server has turned on: Firebase (Google, email) and local accounts. */
export function SignInScreen({ api, notice, onSignedIn }: Props) {
  return (
    <AuthLayout title="Sign in" subtitle="Welcome back. Sign in to see who's around.">
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <AuthMethods
        api={api}
        onSignedIn={onSignedIn}
        page={signInPage}
        footer={(offered) =>
          offered.firebase || offered.local ? (
            <p className="form-footer">
              New to Parley? <Link href={paths.signUp}>Create an account</Link>
            </p>
          ) : (
            <p className="notice">Signing in is turned off on this server.</p>
          )
        }
      />
    </AuthLayout>
  );
}

const signInPage: AuthPage = {
  loadingLabel: "Loading sign-in options…",
  googleLabel: "Sign in with Google",
  EmailForm: FirebaseEmailSignInForm,
  LocalForm: LocalSignInForm,
};

function LocalSignInForm({ api, onSignedIn, autoFocus }: Omit<Props, "notice"> & { autoFocus: boolean }) {
  const form = useFormFields({ username: "", password: "" });
  const { busy, error, setError, run } = useAttempt();

  const submit = () => {
    setError(null);
    if (!form.check(validateSignIn)) return;
    const { username, password } = form.values;
    void run(async () => onSignedIn(await api.login(normalizeUsername(username), password)), describeAuthError);
  };

  return (
    <AuthForm label="Sign in" error={error} busy={busy} submitLabel="Sign in" busyLabel="Signing in…" onSubmit={submit}>
      <UsernameField form={form} id="username" autoFocus={autoFocus} />
      <PasswordField form={form} id="password" />
    </AuthForm>
  );
}
