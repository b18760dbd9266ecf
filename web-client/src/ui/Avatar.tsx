import { initials, statusLabel, type PersonRow } from "../presence/presence";

const palette = ["#5b5fc7", "#0f7b6c", "#c4314b", "#8f5b00", "#2e6fba", "#7a3fa6", "#b24f1c", "#3b7d23"];

function colorFor(id: string): string {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return palette[hash % palette.length];
}

export function Avatar({
  id,
  name,
  status,
  size = "md",
}: {
  id: string;
  name: string;
  status?: PersonRow["status"];
  size?: "sm" | "md" | "lg";
}) {
  return (
    <span className={`avatar avatar-${size}`} style={{ background: colorFor(id) }} aria-hidden="true">
      {initials(name)}
      {status && <span className={`presence-dot presence-${status}`} title={statusLabel(status)} />}
    </span>
  );
}
