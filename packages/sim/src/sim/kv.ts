// The replicated state machine: a key-value register with client sessions. Every write carries
// (client id, sequence number); the session table remembers each client's last applied sequence
// and its result, so a retried write that reaches the log twice takes effect once and the retry is
// answered with the original result.
import { ascii, fromAscii } from "@d-engine/core/testing";
import type { KvInput, KvOutput } from "../linearizability/history.js";

export interface KvCommand {
  readonly client: number;
  readonly seq: number;
  readonly key: string;
  readonly input: KvInput;
}

export function encodeCommand(cmd: KvCommand): Uint8Array {
  return ascii(JSON.stringify([cmd.client, cmd.seq, cmd.key, cmd.input]));
}

export function decodeCommand(data: Uint8Array): KvCommand {
  const [client, seq, key, input] = JSON.parse(fromAscii(data)) as [
    number,
    number,
    string,
    KvInput,
  ];
  return { client, seq, key, input };
}

interface Session {
  readonly seq: number;
  readonly output: KvOutput;
}

export interface ApplyResult {
  /** The answer for this (client, sequence); for a duplicate, the original answer. */
  readonly output: KvOutput;
  /** False when the command was a duplicate (or older than the session) and changed nothing. */
  readonly effect: boolean;
}

export class KvStore {
  /** The last log index applied. */
  applied: number;
  private readonly data = new Map<string, string>();
  private readonly sessions = new Map<number, Session>();

  constructor(applied = 0) {
    this.applied = applied;
  }

  read(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  /** The session's last applied sequence and its answer, if any. */
  session(client: number): Session | undefined {
    return this.sessions.get(client);
  }

  apply(index: number, cmd: KvCommand): ApplyResult {
    this.applied = index;
    const s = this.sessions.get(cmd.client);
    if (s && cmd.seq <= s.seq) {
      // A retry that reached the log again: answer it, change nothing.
      return { output: cmd.seq === s.seq ? s.output : { kind: "unknown" }, effect: false };
    }
    const output = this.execute(cmd.key, cmd.input);
    this.sessions.set(cmd.client, { seq: cmd.seq, output });
    return { output, effect: true };
  }

  private execute(key: string, input: KvInput): KvOutput {
    switch (input.op) {
      case "put":
        this.data.set(key, input.value);
        return { kind: "ok" };
      case "delete":
        this.data.delete(key);
        return { kind: "ok" };
      case "get":
        return { kind: "value", value: this.read(key) };
      case "cas": {
        const ok = this.read(key) === input.expect;
        if (ok) this.data.set(key, input.value);
        return { kind: "swapped", ok };
      }
    }
  }

  /** A canonical encoding (sorted), used for snapshots, checkpoints and agreement checks. */
  encode(): Uint8Array {
    return ascii(this.digest());
  }

  digest(): string {
    const data = [...this.data].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const sessions = [...this.sessions].sort((a, b) => a[0] - b[0]);
    return JSON.stringify([data, sessions]);
  }

  static decode(bytes: Uint8Array, applied: number): KvStore {
    const kv = new KvStore(applied);
    if (bytes.length === 0) return kv;
    const [data, sessions] = JSON.parse(fromAscii(bytes)) as [
      [string, string][],
      [number, Session][],
    ];
    for (const [k, v] of data) kv.data.set(k, v);
    for (const [c, s] of sessions) kv.sessions.set(c, s);
    return kv;
  }
}
