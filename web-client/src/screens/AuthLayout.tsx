import { type ReactNode, useEffect } from "react";
import { LogoMark } from "../ui/icons";

/** The frame around the screens shown before the app itself: sign in, sign up, session notices. */
export function AuthLayout({ title, subtitle, children }: { title: string; subtitle?: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Parley`;
  }, [title]);
  return (
    <div className="auth-page">
      <aside className="auth-brand" aria-hidden="true">
        <div className="auth-brand-inner">
          <div className="brand">
            <LogoMark size={40} />
            <span className="brand-name">Parley</span>
          </div>
          <p className="auth-tagline">Meetings, chat and calls on your own server.</p>
        </div>
      </aside>
      <main className="auth-main" id="main">
        <div className="auth-card">
          <div className="brand brand-compact">
            <LogoMark size={28} />
            <span className="brand-name">Parley</span>
          </div>
          <h1 className="auth-title">{title}</h1>
          {subtitle && <p className="auth-subtitle">{subtitle}</p>}
          {children}
        </div>
      </main>
    </div>
  );
}
