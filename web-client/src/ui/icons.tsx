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

const stroke = { stroke: "currentColor", strokeWidth: 1.8, strokeLinecap: "round" as const, strokeLinejoin: "round" as const };

export function MeetingsIcon() {
  return (
    <svg {...common} {...stroke}>
      <path d="M4 5h16v10H9l-5 4z" />
      <path d="M8 9h8M8 12h5" />
    </svg>
  );
}

export function MicIcon({ off = false }: { off?: boolean }) {
  return (
    <svg {...common} {...stroke}>
      <rect x="9" y="3" width="6" height="11" rx="3" />
      <path d="M5 11a7 7 0 0 0 14 0M12 18v3" />
      {off && <path d="M4 4l16 16" />}
    </svg>
  );
}

export function CameraIcon({ off = false }: { off?: boolean }) {
  return (
    <svg {...common} {...stroke}>
      <rect x="3" y="6" width="13" height="12" rx="2" />
      <path d="M16 10l5-3v10l-5-3z" />
      {off && <path d="M3 3l18 18" />}
    </svg>
  );
}

export function ScreenIcon() {
  return (
    <svg {...common} {...stroke}>
      <rect x="3" y="4" width="18" height="12" rx="2" />
      <path d="M8 20h8M12 16v4" />
    </svg>
  );
}

/** The speaker layout: one large tile above a row of small ones. */
export function SpeakerIcon() {
  return (
    <svg {...common} {...stroke}>
      <rect x="3" y="3" width="18" height="12" rx="2" />
      <rect x="3" y="17" width="5" height="4" rx="1" />
      <rect x="9.5" y="17" width="5" height="4" rx="1" />
      <rect x="16" y="17" width="5" height="4" rx="1" />
    </svg>
  );
}

/** A push pin: keep this tile's video. */
export function PinIcon() {
  return (
    <svg {...common} {...stroke}>
      <path d="M9 3h6l-1 6 3 3v2H7v-2l3-3z" />
      <path d="M12 14v7" />
    </svg>
  );
}

export function PhoneIcon() {
  return (
    <svg {...common} {...stroke}>
      <path d="M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z" />
    </svg>
  );
}

export function LinkIcon() {
  return (
    <svg {...common} {...stroke}>
      <path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1" />
      <path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1" />
    </svg>
  );
}

export function PlusIcon() {
  return (
    <svg {...common} {...stroke}>
      <path d="M12 5v14M5 12h14" />
    </svg>
  );
}
