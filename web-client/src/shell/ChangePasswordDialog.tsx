// The account's password, changed from the header: current password, new one twice. Every other sign-in ends; this
// tab keeps its socket and gets a fresh token. Accounts that sign in with Firebase change their password there.
import { useEffect, useRef, useState } from "react";
import type { ApiClient } from "../api/client";
import { AuthForm, useAttempt, useFormFields } from "../auth/forms";
import { type PasswordChangeFields, changePassword, explainPasswordChangeFailure, validatePasswordChange } from "../auth/passwordChange";
import { Field } from "../ui/Field";

interface Props {
  api: Pick<ApiClient, "changePassword">;
  /** The open socket's session id (kept open by the change); null while disconnected. */
  sessionId: string | null;
  onRenewed: (token: string) => void;
  onClose: () => void;
}

export function ChangePasswordDialog({ api, sessionId, onRenewed, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const form = useFormFields<PasswordChangeFields>({ currentPassword: "", newPassword: "", confirmation: "" });
  const { busy, error, setError, run } = useAttempt();
  const [done, setDone] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  const submit = () => {
    if (!form.check(validatePasswordChange)) return;
    void run(
      async () => {
        await changePassword(api, form.values, sessionId, onRenewed);
        setDone(true);
      },
      (failure) => {
        const { field, message } = explainPasswordChangeFailure(failure);
        if (!field) return message;
        form.setErrors({ [field]: message });
        return null;
      },
    );
  };

  const field = (name: keyof PasswordChangeFields, label: string, hint?: string) => (
    <Field
      id={`account-${name}`}
      label={label}
      type="password"
      autoComplete={name === "currentPassword" ? "current-password" : "new-password"}
      hint={hint}
      value={form.values[name]}
      onChange={form.change(name)}
      error={form.errors[name]}
    />
  );

  return (
    <dialog className="dialog" ref={dialog} onClose={onClose} aria-labelledby="change-password-title" data-change-password>
      <h2 className="dialog-title" id="change-password-title">
        Change password
      </h2>
      {done ? (
        <>
          <p className="notice" role="status">
            Your password was changed. You were signed out on every other device and browser; this one stays signed in.
          </p>
          <button className="button button-primary button-block dialog-close" type="button" onClick={() => dialog.current?.close()}>
            Done
          </button>
        </>
      ) : (
        <>
          <AuthForm
            label="Change password"
            error={error}
            busy={busy}
            submitLabel="Change password"
            busyLabel="Changing password…"
            onSubmit={() => {
              setError(null);
              submit();
            }}
          >
            {field("currentPassword", "Current password")}
            {field("newPassword", "New password", "At least 8 characters. Every other sign-in of yours ends.")}
            {field("confirmation", "New password again")}
          </AuthForm>
          <button className="button button-ghost button-block dialog-close" type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </>
      )}
    </dialog>
  );
}
