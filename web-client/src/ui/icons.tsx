// Inline icons so the app ships no icon font; each is decorative (labels come from the text beside it).
const common = { width: 20, height: 20, viewBox: "0 0 24 24", fill: "none", "aria-hidden": true as const };

export function PeopleIcon() {
  return (
    <svg {...common} stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round">
      <circle cx="9" cy="8" r="3.5" />
      <path d="M2.5 19.5c.8-3.4 3.3-5.5 6.5-5.5s5.7 2.1 6.5 5.5" />
      <circle cx="17" cy="9" r="2.5" />
      <path d="M16.5 14c2.6.1 4.4 1.9 5 4.5" />
    </svg>
  );
}

export function SignOutIcon() {
  return (
    <svg {...common} width={18} height={18} stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round">
      <path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3" />
      <path d="M10 16l-4-4 4-4" />
      <path d="M6 12h10" />
    </svg>
  );
}

export function LogoMark({ size = 32 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="#5b5fc7" />
      <path d="M9 10h9.5a5.5 5.5 0 0 1 0 11H13v4H9z M13 14v3h5.5a1.5 1.5 0 0 0 0-3z" fill="#fff" />
    </svg>
  );
}
