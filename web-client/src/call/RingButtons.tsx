import type { ReactNode } from "react";
import { CameraIcon, PhoneIcon } from "../ui/icons";
import type { RingMedia } from "../ws/messages";

interface Person {
  userId: string;
  displayName: string;
}

interface Props<P extends Person> {
  person: P;
  onRing: (person: P, media: RingMedia) => void;
  /** Icons only, in a list row (the person's name is in the row and the buttons' labels). */
  compact?: boolean;
  disabled?: boolean;
}

const kinds: Array<{ media: RingMedia; label: string; icon: ReactNode }> = [
  { media: "video", label: "Video call", icon: <CameraIcon /> },
  { media: "audio", label: "Audio call", icon: <PhoneIcon /> },
];

/** "Video call" and "Audio call" for one person: each rings them (ring.start). */
export function RingButtons<P extends Person>({ person, onRing, compact = false, disabled = false }: Props<P>) {
  return (
    <>
      {kinds.map(({ media, label, icon }) => (
        <button
          key={media}
          className={`button button-call${compact ? " button-small" : ""}`}
          type="button"
          onClick={() => onRing(person, media)}
          disabled={disabled}
          aria-label={compact ? `${label} ${person.displayName}` : undefined}
          title={compact ? label : undefined}
          data-action={`${media}-call`}
        >
          {icon}
          {!compact && <span>{label}</span>}
        </button>
      ))}
    </>
  );
}
