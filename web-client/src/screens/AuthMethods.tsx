import type { ComponentType, ReactNode } from "react";
import type { ApiClient, AuthResult } from "../api/client";
import type { FirebaseSignIn } from "../auth/firebase";
import { GoogleSignInButton, OrDivider } from "../auth/FirebaseForms";
import { useAuthProviders, useFirebaseSignIn } from "./useAuthProviders";

/** What one page (sign-in or sign-up) offers, in its own words. */
export interface AuthPage {
  /** Shown while the server is asked which methods it offers. */
  loadingLabel: string;
  googleLabel: string;
  EmailForm: ComponentType<{ firebase: FirebaseSignIn; onSignedIn: (result: AuthResult) => void; autoFocus?: boolean }>;
  /** The local-account form; it takes the focus when it comes first. */
  LocalForm: ComponentType<{ api: ApiClient; onSignedIn: (result: AuthResult) => void; autoFocus: boolean }>;
}

interface Props {
  api: ApiClient;
  onSignedIn: (result: AuthResult) => void;
  page: AuthPage;
  /** What follows the methods (links, or a notice when none is on). */
  footer: (offered: { firebase: boolean; local: boolean }) => ReactNode;
}

/** The ways in the server has turned on, in order: Google, Firebase email, then a Parley username. */
export function AuthMethods({ api, onSignedIn, page, footer }: Props) {
  const { loadingLabel, googleLabel, EmailForm, LocalForm } = page;
  const providers = useAuthProviders(api);
  const firebase = useFirebaseSignIn(api, providers?.firebase ?? null);
  if (providers === null) {
    return (
      <p className="auth-loading" role="status">
        {loadingLabel}
      </p>
    );
  }
  return (
    <div className="auth-methods">
      {firebase && (
        <>
          <GoogleSignInButton firebase={firebase} label={googleLabel} onSignedIn={onSignedIn} />
          <OrDivider label="or with email" />
          <EmailForm firebase={firebase} onSignedIn={onSignedIn} autoFocus />
        </>
      )}
      {firebase && providers.local && <OrDivider label="or with a Parley username" />}
      {providers.local && <LocalForm api={api} onSignedIn={onSignedIn} autoFocus={!firebase} />}
      {footer({ firebase: firebase !== null, local: providers.local })}
    </div>
  );
}
