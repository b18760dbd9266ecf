import type { ReactNode } from "react";
import type { User } from "../api/client";
import type { PersonRow } from "../presence/presence";
import type { PresenceChoice } from "../ws/messages";
import { Avatar } from "../ui/Avatar";
import { LogoMark, MeetingsIcon, PeopleIcon, SignOutIcon } from "../ui/icons";
import { Link } from "../ui/Link";

export interface NavItem {
  path: string;
  label: string;
  icon: ReactNode;
}

/** The app's sections, in rail order. */
export const navItems: NavItem[] = [
  { path: "/meetings", label: "Meetings", icon: <MeetingsIcon /> },
  { path: "/", label: "People", icon: <PeopleIcon /> },
];

interface Props {
  user: User;
  selfStatus: PersonRow["status"];
  /** The status the user chose for themselves, and how to change it. */
  choice: PresenceChoice;
  onChoose: (choice: PresenceChoice) => void;
  activePath: string;
  title: string;
  banner?: ReactNode;
  /** Content fills the frame edge to edge (meetings), instead of a padded page. */
  wide?: boolean;
  onSignOut: () => void;
  /** Ends every sign-in of this user, on every device. */
  onSignOutEverywhere: () => void;
  /** Opens the password change; absent for accounts whose password lives elsewhere (Firebase). */
  onChangePassword?: () => void;
  children: ReactNode;
}

/** The signed-in frame: a left rail of sections, a header with who you are, and the content. */
export function Shell({
  user,
  selfStatus,
  choice,
  onChoose,
  activePath,
  title,
  banner,
  wide,
  onSignOut,
  onSignOutEverywhere,
  onChangePassword,
  children,
}: Props) {
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="rail" aria-label="Sections">
        <div className="rail-logo">
          <LogoMark size={32} />
        </div>
        <ul className="rail-items">
          {navItems.map((item) => (
            <li key={item.path}>
              <Link className="rail-item" href={item.path} aria-current={item.path === activePath ? "page" : undefined}>
                {item.icon}
                <span className="rail-label">{item.label}</span>
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="frame">
        <header className="topbar">
          <div className="topbar-brand">Parley</div>
          <h1 className="topbar-title">{title}</h1>
          <div className="account" aria-label="Your account">
            <Avatar id={user.userId} name={user.displayName} status={selfStatus} size="sm" />
            <span className="account-name" data-self-name>
              {user.displayName}
            </span>
            <label className="visually-hidden" htmlFor="own-status">
              Your status
            </label>
            <select
              id="own-status"
              className="status-select"
              value={choice}
              onChange={(e) => onChoose(e.target.value as PresenceChoice)}
              data-own-status={selfStatus}
            >
              <option value="available">{selfStatus === "away" ? "Away" : selfStatus === "in-call" ? "Busy" : "Available"}</option>
              <option value="dnd">Do not disturb</option>
            </select>
            <button className="button button-ghost" type="button" onClick={onSignOut} aria-label="Sign out" title="Sign out">
              <SignOutIcon />
              <span>Sign out</span>
            </button>
            <button
              className="button button-ghost"
              type="button"
              onClick={onSignOutEverywhere}
              title="Sign out on every device and browser"
              data-sign-out-everywhere
            >
              <span>Sign out everywhere</span>
            </button>
            {onChangePassword && (
              <button className="button button-ghost" type="button" onClick={onChangePassword} data-change-password-open>
                <span>Change password</span>
              </button>
            )}
          </div>
        </header>
        {banner}
        <main className={wide ? "content content-wide" : "content"} id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
