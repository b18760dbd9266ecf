import { ApiError, type ApiClient, type AuthResult, describeAuthError } from "../api/client";
import { FirebaseEmailSignUpForm } from "../auth/FirebaseForms";
import { type SignUpFields, fieldNamedIn, normalizeUsername, validateSignUp } from "../auth/validation";
import { paths } from "../router";
import { AuthForm, DisplayNameField, PasswordField, UsernameField, useAttempt, useFormFields } from "../auth/forms";
import { Link } from "../ui/Link";
import { AuthLayout } from "./AuthLayout";
import { type AuthPage, AuthMethods } from "./AuthMethods";

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
  return (
    <AuthLayout title="Create your account" subtitle="It takes a moment. You'll be signed in right away.">
      <AuthMethods
        api={api}
        onSignedIn={onSignedIn}
        page={signUpPage}
        footer={(offered) => (
          <>
            {!offered.firebase && !offered.local && <p className="notice">New accounts can't be created on this server.</p>}
            <p className="form-footer">
              Already have an account? <Link href={paths.signIn}>Sign in</Link>
            </p>
          </>
        )}
      />
    </AuthLayout>
  );
}

const signUpPage: AuthPage = {
  loadingLabel: "Loading sign-up options…",
  googleLabel: "Sign up with Google",
  EmailForm: FirebaseEmailSignUpForm,
  LocalForm: LocalSignUpForm,
};

function LocalSignUpForm({ api, onSignedIn, autoFocus }: Props & { autoFocus: boolean }) {
  const form = useFormFields<SignUpFields>({ username: "", displayName: "", password: "" });
  const { busy, error, setError, run } = useAttempt();

  /** Puts the server's refusal next to the field it names, or above the form. */
  const explain = (failure: unknown): string | null => {
    if (failure instanceof ApiError && failure.code === "username.taken") {
      form.setErrors({ username: describeAuthError(failure) });
      return null;
    }
    if (failure instanceof ApiError && failure.code === "bad_request") {
      const field = fieldNamedIn<SignUpFields>(failure.message, fieldNames);
      if (!field) return failure.message;
      form.setErrors({ [field]: failure.message });
      return null;
    }
    return describeAuthError(failure);
  };

  const submit = () => {
    setError(null);
    if (!form.check(validateSignUp)) return;
    const { username, password, displayName } = form.values;
    void run(async () => onSignedIn(await api.register(normalizeUsername(username), password, displayName.trim())), explain);
  };

  return (
    <AuthForm label="Create account" error={error} busy={busy} submitLabel="Create account" busyLabel="Creating account…" onSubmit={submit}>
      <DisplayNameField form={form} id="displayName" autoFocus={autoFocus} />
      <UsernameField form={form} id="username" hint="3–32 lowercase letters, digits, dots, dashes or underscores." />
      <PasswordField form={form} id="password" rule="At least 8 characters." />
    </AuthForm>
  );
}
