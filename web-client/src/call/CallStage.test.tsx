import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { User } from "../api/client";
import type { CallState } from "../ws/messages";
import { FakeServer, serverMessage } from "../ws/testing";
import { CallStage } from "./CallStage";
import { CallSession, type CallSnapshot } from "./session";
import { callNotices, tileNotes } from "./wording";

const ann: User = { userId: "u1", username: "ann", displayName: "Ann" };

/** The stage as Ann sees it in the examples' call with Ben (camera e2:1 and screen e2:2), after `withheld`. */
function stage(withheld: ReturnType<typeof serverMessage>, changes: Partial<CallSnapshot> = {}): string {
  const server = new FakeServer();
  const session = new CallSession("m1", {
    request: (m, timeoutMs) => server.request(m, timeoutMs),
    createPeerConnection: () => {
      throw new Error("the stage opens no connection");
    },
    getUserMedia: () => Promise.reject(new Error("no devices here")),
    getDisplayMedia: () => Promise.reject(new Error("no devices here")),
    setTimer: () => null,
    clearTimer: () => undefined,
  });
  session.handle(withheld);
  const { type: _type, re: _re, ...state } = serverMessage("callStateVideo") as { type: string; re?: string } & CallState;
  const snapshot: CallSnapshot = { ...session.view.get(), phase: "connected", state, ...changes };
  return renderToStaticMarkup(<CallStage self={ann} session={session} snapshot={snapshot} callState={null} onLeave={() => undefined} />);
}

/** The markup of the tile labelled `label`. */
function tile(markup: string, label: string): string {
  const start = markup.indexOf(`aria-label="${label}"`);
  expect(start, `a tile labelled ${label}`).toBeGreaterThan(-1);
  return markup.slice(markup.lastIndexOf("<li", start), markup.indexOf("</li>", start));
}

/** Text as the markup holds it. */
const html = (text: string) => text.replaceAll("'", "&#x27;");

const weak = () => serverMessage("callWithheldWeakLink");

describe("the call stage on a weak downlink", () => {
  it("shows the person on a tile paused for bandwidth, saying the connection is weak, and no pin hint", () => {
    const markup = stage(weak());
    const ben = tile(markup, "Ben");
    expect(ben).toContain('data-paused-for-bandwidth="true"');
    expect(ben).not.toContain("data-withheld");
    expect(ben).toContain("tile-avatar");
    expect(ben).toContain(tileNotes.weakConnection);
    expect(ben).not.toContain("Pin to see it");
    // His screen still comes (in a lower layer): it shows video.
    expect(tile(markup, "Ben&#x27;s screen")).not.toContain("tile-note");
  });

  it("keeps the last-N note on a tile last-N withholds", () => {
    const ben = tile(stage(serverMessage("callWithheld")), "Ben");
    expect(ben).toContain('data-withheld="true"');
    expect(ben).toContain(html(tileNotes.withheld));
    expect(ben).not.toContain(tileNotes.weakConnection);
  });

  it("shows one weak-connection notice while the link limits what comes", () => {
    const markup = stage(weak());
    expect(markup.split('data-testid="weak-connection"')).toHaveLength(2);
    expect(markup).toMatch(new RegExp(`<p class="call-notice call-notice-weak" role="status" data-testid="weak-connection">${
      callNotices.weakConnection}</p>`));
  });

  it("shows no notice when the link limits nothing, nor outside the call", () => {
    expect(stage(serverMessage("callWithheld"))).not.toContain("weak-connection");
    expect(stage(weak(), { phase: "left" })).not.toContain("weak-connection");
  });
});
