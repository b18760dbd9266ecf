// The parts every sign-in and sign-up form is made of: the form with its error and submit button, its values and
// field errors, one attempt at a time, and the fields (name, username, email, password) with the same labels,
// hints and browser autofill wherever they appear.
import { type FormEvent, type ReactNode, useState } from "react";
import { Field } from "../ui/Field";
import type { FieldErrors } from "./validation";

/** An error about the whole form (or the sign-in attempt), announced as it appears. */
export function FormError({ message }: { message: string | null }) {
  return message ? (
    <p className="form-error" role="alert">
      {message}
    </p>
  ) : null;
}

interface AuthFormProps {
  /** The form's accessible name. */
  label: string;
  error: string | null;
  busy: boolean;
  submitLabel: string;
  /** What the button says while the attempt runs. */
  busyLabel: string;
  onSubmit: () => void;
  children: ReactNode;
}

export function AuthForm({ label, error, busy, submitLabel, busyLabel, onSubmit, children }: AuthFormProps) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <form className="form" onSubmit={submit} noValidate aria-label={label}>
      <FormError message={error} />
      {children}
      <button className="button button-primary button-block" type="submit" disabled={busy}>
        {busy ? busyLabel : submitLabel}
      </button>
    </form>
  );
}

/** A form's values and the errors found in them, by field name. */
export interface FormFields<F> {
  readonly values: F;
  readonly errors: FieldErrors<F>;
  change(name: keyof F): (event: { target: { value: string } }) => void;
  setErrors(errors: FieldErrors<F>): void;
  /** Checks the values, shows what is wrong; whether they can be sent. */
  check(validate: (values: F) => FieldErrors<F>): boolean;
}

export function useFormFields<F extends { [K in keyof F]: string }>(initial: F): FormFields<F> {
  const [values, setValues] = useState<F>(initial);
  const [errors, setErrors] = useState<FieldErrors<F>>({});
  return {
    values,
    errors,
    change: (name) => (event) => setValues((current) => ({ ...current, [name]: event.target.value })),
    setErrors,
    check: (validate) => {
      const found = validate(values);
      setErrors(found);
      return Object.keys(found).length === 0;
    },
  };
}

/** One sign-in attempt at a time: busy while it runs; what to tell the person when it fails. */
export function useAttempt() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (attempt: () => Promise<void>, explain: (failure: unknown) => string | null) => {
    setBusy(true);
    setError(null);
    try {
      await attempt();
    } catch (failure) {
      setError(explain(failure));
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

interface FieldProps<Name extends string> {
  form: FormFields<Record<Name, string>>;
  id: string;
  autoFocus?: boolean;
}

function fieldOf<Name extends string>({ form, ...props }: FieldProps<Name>, name: Name) {
  return { ...props, value: form.values[name], onChange: form.change(name), error: form.errors[name] };
}

export function DisplayNameField(props: FieldProps<"displayName">) {
  return <Field label="Your name" autoComplete="name" hint="Shown to the people you meet." {...fieldOf(props, "displayName")} />;
}

export function UsernameField({ hint, ...props }: FieldProps<"username"> & { hint?: string }) {
  return (
    <Field label="Username" autoComplete="username" autoCapitalize="none" spellCheck={false} hint={hint} {...fieldOf(props, "username")} />
  );
}

export function EmailField(props: FieldProps<"email">) {
  return <Field label="Email" type="email" autoComplete="email" autoCapitalize="none" spellCheck={false} {...fieldOf(props, "email")} />;
}

/** The password of an existing account, or a new one (with its rule as the hint). */
export function PasswordField({ rule, ...props }: FieldProps<"password"> & { rule?: string }) {
  const autoComplete = rule ? "new-password" : "current-password";
  return <Field label="Password" type="password" autoComplete={autoComplete} hint={rule} {...fieldOf(props, "password")} />;
}
