// For unit tests: the server's side of the socket, answering requests with the messages the gateway really sends
// (docs/protocol-examples.json, checked against the gateway's own encoding by signaling's ProtocolExamplesTest).
import examples from "../../../docs/protocol-examples.json";
import { type ClientMessage, type ServerMessage, parseServerMessage } from "./messages";
import { Requests } from "./requests";

export type ExampleName = Exclude<keyof typeof examples, "_about">;

/** An example server message, read by the client's own parser; `re` and fields may be replaced (not added). */
export function serverMessage(name: ExampleName, changes: Record<string, unknown> = {}): ServerMessage {
  const { re: _re, ...example } = examples[name] as Record<string, unknown>;
  for (const key of Object.keys(changes)) {
    if (!(key in example) && key !== "re") throw new Error(`the example ${name} has no field ${key}`);
  }
  const parsed = parseServerMessage(JSON.stringify({ ...example, ...changes }));
  if (!parsed) throw new Error(`the client cannot read the example ${name}`);
  return parsed;
}

/** Records what the client sends and lets a test answer each request by its id. */
export class FakeServer {
  readonly sent: Array<ClientMessage & { id: string }> = [];
  online = true;
  private readonly timers: Array<{ callback: () => void; ms: number; cleared: boolean }> = [];
  readonly requests = new Requests(
    (message) => {
      if (!this.online) return false;
      this.sent.push(message as ClientMessage & { id: string });
      return true;
    },
    {
      set: (callback, ms) => {
        const timer = { callback, ms, cleared: false };
        this.timers.push(timer);
        return timer;
      },
      clear: (timer) => void ((timer as { cleared: boolean }).cleared = true),
    },
  );

  request = (message: ClientMessage, timeoutMs?: number) => this.requests.request(message, timeoutMs);

  types(): string[] {
    return this.sent.map((m) => m.type);
  }

  /** The latest request of this type. */
  last(type: ClientMessage["type"]): ClientMessage & { id: string } {
    const found = [...this.sent].reverse().find((m) => m.type === type);
    if (!found) throw new Error(`no ${type} was sent; sent: ${this.types().join(", ")}`);
    return found;
  }

  /** Answers the latest request of `type` with an example message; false when that request was settled already. */
  answer(type: ClientMessage["type"], name: ExampleName, changes: Record<string, unknown> = {}): boolean {
    return this.requests.settle(serverMessage(name, { ...changes, re: this.last(type).id }));
  }

  /** Lets every waiting request's time limit run out. */
  expireRequests(): void {
    for (const timer of this.timers.splice(0)) if (!timer.cleared) timer.callback();
  }

  /** The socket drops: what waits for an answer fails with `disconnected`. */
  disconnect(): void {
    this.online = false;
    this.requests.abandonAll();
  }
}
