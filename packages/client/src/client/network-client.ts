// The network client: DEngineClient over Connect-RPC, independent of how HTTP is spoken (the Node
// and browser entries supply the Transport). It finds the leader, sends writes and
// linearizable/lease reads there, follows "not leader" redirects, retries what is safe to retry
// within the call's deadline, and gives every write a session so that a retried write applies
// once. Where the transport carries bidirectional streams (Node), each attempt of a key-value call
// travels on the endpoint's KvService.Pipeline stream (kv-pipeline.ts), batched with the other
// calls of the same turn; everything above an attempt is the same either way.
import {
  type Client,
  type CallOptions as ConnectCallOptions,
  createClient as createConnectClient,
  type Transport,
} from "@connectrpc/connect";
import {
  ClusterService,
  KvService,
  LeaseService,
  MaintenanceService,
  WatchService,
} from "@d-engine/proto/api";
import { toBytes } from "../bytes.js";
import {
  DEngineError,
  InvalidArgumentError,
  NotLeaderError,
  ResourceExhaustedError,
  TimeoutError,
  UnavailableError,
} from "../errors.js";
import { networkLeaseApi } from "../lease/network-leases.js";
import type { LeaseApi } from "../lease/types.js";
import {
  checkCompareAndSwap,
  checkGetMany,
  checkKeyRange,
  checkKeyValue,
  checkLimit,
  checkTxn,
  DEFAULT_LIMITS,
  type Limits,
} from "../limits.js";
import { endCallTrace, startCallTrace, tracedTransport } from "../tracing/call-span.js";
import type {
  AddLearnerOptions,
  Bytes,
  CallOptions,
  ClusterApi,
  CompareAndSwapResult,
  Consistency,
  DEngineClient,
  DeleteOptions,
  DeleteResult,
  GetManyResult,
  KeyValue,
  MaintenanceApi,
  MemberList,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  ReadOptions,
  SnapshotInfo,
  Txn,
  TxnResult,
  WriteSession,
} from "../types.js";
import {
  type NetworkWatchDeps,
  networkWatch,
  networkWatchMembers,
} from "../watch/network-watch.js";
import type { Watcher, WatchOptions } from "../watch/types.js";
import {
  fromWireAddLearnerRequest,
  fromWireLeaderResponse,
  fromWireMembers,
  fromWireStatusResponse,
  fromWireTakeSnapshotResponse,
  toWireAddLearnerRequest,
  toWireDownloadSnapshotRequest,
} from "../wire/cluster.js";
import { fromConnectError } from "../wire/errors.js";
import {
  fromWireCompactResponse,
  fromWireCompareAndSwapResponse,
  fromWireDeleteResponse,
  fromWireGetManyResponse,
  fromWireGetResponse,
  fromWirePutResponse,
  fromWireRangeResponse,
  fromWireTxnResponse,
  toWireCompactRequest,
  toWireCompareAndSwapRequest,
  toWireDeleteRequest,
  toWireGetManyRequest,
  toWireGetRequest,
  toWirePutRequest,
  toWireRangeRequest,
  toWireTxnRequest,
} from "../wire/kv.js";
import { fromU64 } from "../wire/numbers.js";
import { rangeBounds } from "../wire/range-txn.js";
import { toWireSession } from "../wire/values.js";
import { type AttemptCall, KvPipeline, type KvStub, type PipelineOpener } from "./kv-pipeline.js";
import { type ClientOptions, toBaseUrl } from "./options.js";
import { CallScope, now, raceAbort } from "./scope.js";
import { randomClientId, SessionAllocator } from "./sessions.js";

/** Makes the Connect transport for one base URL; close() releases every connection. */
export interface TransportFactory {
  create(baseUrl: string): Transport;
  close(): void;
  /**
   * The transport carries bidirectional streams (HTTP/2): key-value calls then travel over one
   * KvService.Pipeline stream per endpoint (kv-pipeline.ts) instead of one HTTP/2 stream each.
   */
  readonly pipeline?: boolean;
  /**
   * Opens a Pipeline stream to `baseUrl` some way cheaper than the transport's (Node: on
   * node:http2 directly, node/pipeline-stream.ts); without it, through the transport.
   */
  openPipeline?(baseUrl: string): PipelineOpener;
}

export interface NetworkClient extends DEngineClient {
  /** The client id its write sessions carry. */
  readonly clientId: string;
}

interface Stubs {
  readonly kv: KvStub;
  readonly cluster: Client<typeof ClusterService>;
  readonly maintenance: Client<typeof MaintenanceService>;
  readonly lease: Client<typeof LeaseService>;
  readonly watch: Client<typeof WatchService>;
}

type Route =
  | { readonly kind: "leader" }
  | { readonly kind: "any" }
  | { readonly kind: "endpoint"; readonly url: string };

/**
 * "session": a write with a session, safe to retry after an unknown outcome (it applies once).
 * "plain": a change without a session (membership, snapshot), retried only when it surely did not
 * reach a server. false: a read.
 */
type WriteKind = "session" | "plain" | false;

interface Spec<T> {
  readonly route: Route;
  readonly write: WriteKind;
  attempt(stubs: Stubs, call: ConnectCallOptions): Promise<T>;
}

const LEADER: Route = { kind: "leader" };
const ANY: Route = { kind: "any" };
/** Redirects followed at once before backing off (a leader hint can be stale during elections). */
const FREE_REDIRECTS = 3;

export function createNetworkClient(
  opts: ClientOptions,
  transports: TransportFactory,
): NetworkClient {
  return new ClientImpl(opts, transports);
}

class ClientImpl implements NetworkClient {
  readonly clientId: string;
  readonly cluster: ClusterApi;
  readonly maintenance: MaintenanceApi;
  readonly leases: LeaseApi;
  private readonly endpoints: readonly string[];
  private readonly scheme: string;
  private readonly limits: Limits;
  private readonly timeoutMs: number;
  private readonly consistency: Consistency | undefined;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly discoveryTimeoutMs: number;
  private readonly sessions: SessionAllocator;
  private readonly stubsByUrl = new Map<string, Stubs>();
  private readonly pipelines: KvPipeline[] = [];
  private readonly active = new Set<CallScope>();
  private leaderUrl: string | undefined;
  private discovering: Promise<string> | undefined;
  private roundRobin = 0;
  /** Pipelined: the round-robin step waits for the end of the turn (see target()). */
  private roundRobinHeld = false;
  private closed = false;
  /** Ends each open watch when the client closes. */
  private readonly watchClosers = new Set<() => void>();
  /** Watches start on endpoints in turn (the first on the first endpoint). */
  private watchRoundRobin = 0;

  constructor(
    opts: ClientOptions,
    private readonly transports: TransportFactory,
  ) {
    if (!opts.endpoints || opts.endpoints.length === 0) {
      throw new InvalidArgumentError("createClient: endpoints must list at least one address");
    }
    const first = opts.endpoints.find((e) => /^https?:\/\//i.test(e));
    this.scheme = first?.toLowerCase().startsWith("https:") ? "https:" : "http:";
    this.endpoints = [...new Set(opts.endpoints.map((e) => toBaseUrl(e, this.scheme)))];
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.timeoutMs = positive(opts.timeoutMs ?? 5000, "timeoutMs");
    this.consistency = opts.consistency;
    this.initialDelayMs = positive(opts.retry?.initialDelayMs ?? 20, "retry.initialDelayMs");
    this.maxDelayMs = positive(opts.retry?.maxDelayMs ?? 1000, "retry.maxDelayMs");
    this.discoveryTimeoutMs = positive(opts.discoveryTimeoutMs ?? 2000, "discoveryTimeoutMs");
    this.clientId = opts.clientId ?? randomClientId();
    this.sessions = new SessionAllocator(this.clientId);
    this.cluster = this.makeClusterApi();
    this.maintenance = this.makeMaintenanceApi();
    this.leases = networkLeaseApi({
      write: (o, fn) => this.write(o, (s, session, call) => fn(s.lease, session, call)),
      leader: (o, fn) =>
        this.run(o, { route: LEADER, write: false, attempt: (s, call) => fn(s.lease, call) }),
    });
  }

  // --- key-value ---

  async put(key: Bytes, value: Bytes, opts?: PutOptions): Promise<PutResult> {
    const k = toBytes(key);
    const v = toBytes(value);
    checkKeyValue(this.limits, k, v);
    const req = toWirePutRequest(k, v, opts, undefined);
    return this.write(opts, async (s, session, call) => {
      req.session = toWireSession(session);
      return fromWirePutResponse(await s.kv.put(req, call));
    });
  }

  async get(key: Bytes, opts?: ReadOptions): Promise<KeyValue | undefined> {
    const k = toBytes(key);
    checkLimit(this.limits, "maxKeyBytes", k.length);
    const o = this.readOpts(opts);
    const req = toWireGetRequest(k, o);
    return this.run(o, {
      route: this.readRoute(o.consistency),
      write: false,
      attempt: async (s, call) => fromWireGetResponse(await s.kv.get(req, call)),
    });
  }

  async getMany(keys: readonly Bytes[], opts?: ReadOptions): Promise<GetManyResult> {
    const ks = keys.map(toBytes);
    checkGetMany(this.limits, ks);
    const o = this.readOpts(opts);
    const req = toWireGetManyRequest(ks, o);
    return this.run(o, {
      route: this.readRoute(o.consistency),
      write: false,
      attempt: async (s, call) => fromWireGetManyResponse(await s.kv.getMany(req, call)),
    });
  }

  async range(opts: RangeOptions): Promise<RangeResult> {
    const { key, rangeEnd, prefix } = rangeBounds(opts);
    checkKeyRange(this.limits, prefix.length ? prefix : key, rangeEnd);
    const o = this.readOpts(opts);
    const req = toWireRangeRequest(o);
    return this.run(o, {
      route: this.readRoute(o.consistency),
      write: false,
      attempt: async (s, call) => fromWireRangeResponse(await s.kv.range(req, call)),
    });
  }

  async prefix(
    prefix: Bytes,
    opts?: Omit<RangeOptions, "prefix" | "key" | "rangeEnd">,
  ): Promise<RangeResult> {
    return this.range({ ...opts, prefix });
  }

  async delete(key: Bytes, opts?: DeleteOptions): Promise<DeleteResult> {
    const k = toBytes(key);
    const end = opts?.rangeEnd === undefined ? undefined : toBytes(opts.rangeEnd);
    checkKeyRange(this.limits, k, end);
    const req = toWireDeleteRequest(k, opts, undefined);
    return this.write(opts, async (s, session, call) => {
      req.session = toWireSession(session);
      return fromWireDeleteResponse(await s.kv.delete(req, call));
    });
  }

  async compareAndSwap(
    key: Bytes,
    expected: Bytes | undefined,
    value: Bytes,
    opts?: CallOptions,
  ): Promise<CompareAndSwapResult> {
    const k = toBytes(key);
    const e = expected === undefined ? undefined : toBytes(expected);
    const v = toBytes(value);
    checkCompareAndSwap(this.limits, k, e, v);
    const req = toWireCompareAndSwapRequest(k, e, v, undefined);
    return this.write(opts, async (s, session, call) => {
      req.session = toWireSession(session);
      return fromWireCompareAndSwapResponse(await s.kv.compareAndSwap(req, call));
    });
  }

  async txn(txn: Txn, opts?: CallOptions): Promise<TxnResult> {
    checkTxn(this.limits, txn);
    const req = toWireTxnRequest(txn, undefined);
    return this.write(opts, async (s, session, call) => {
      req.session = toWireSession(session);
      return fromWireTxnResponse(await s.kv.txn(req, call));
    });
  }

  async compact(revision: number, opts?: CallOptions): Promise<{ readonly revision: number }> {
    if (!(revision > 0)) throw new InvalidArgumentError("compact: revision must be positive");
    const req = toWireCompactRequest(revision, undefined);
    return this.write(opts, async (s, session, call) => {
      req.session = toWireSession(session);
      return fromWireCompactResponse(await s.kv.compact(req, call));
    });
  }

  /** Watches on any node, resumed on another from the last revision if the stream breaks. */
  watch(opts: WatchOptions): Watcher {
    if (this.closed) throw new UnavailableError("the client is closed");
    return networkWatch(opts, this.watchDeps());
  }

  private watchDeps(): NetworkWatchDeps {
    return {
      endpoints: this.endpoints,
      firstEndpoint: () => this.watchRoundRobin++,
      stub: (url) => this.stubs(url).watch,
      onClose: (end) => {
        this.watchClosers.add(end);
        return () => this.watchClosers.delete(end);
      },
      initialDelayMs: this.initialDelayMs,
      maxDelayMs: this.maxDelayMs,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const end of [...this.watchClosers]) end();
    for (const scope of this.active) scope.abort("closed");
    for (const p of this.pipelines) p.close();
    this.transports.close();
  }

  // --- cluster and maintenance ---

  private makeClusterApi(): ClusterApi {
    return {
      members: (opts) =>
        this.run(opts, {
          route: opts?.linearizable ? LEADER : ANY,
          write: false,
          attempt: async (s, call) => {
            const res = await s.cluster.memberList(
              { linearizable: opts?.linearizable ?? false },
              call,
            );
            return fromWireMembers(res.members, res.leaderId);
          },
        }),
      addLearner: async (opts: AddLearnerOptions) => {
        // Validates ids and addresses here, as the server would.
        const req = toWireAddLearnerRequest(opts);
        fromWireAddLearnerRequest(req);
        return this.run(opts, {
          route: LEADER,
          write: "plain",
          attempt: async (s, call) => memberList(await s.cluster.addLearner(req, call)),
        });
      },
      promote: (id, opts) =>
        this.run(opts, {
          route: LEADER,
          write: "plain",
          attempt: async (s, call) =>
            memberList(await s.cluster.promote({ id: positiveId(id) }, call)),
        }),
      removeMember: (id, opts) =>
        this.run(opts, {
          route: LEADER,
          write: "plain",
          attempt: async (s, call) =>
            memberList(await s.cluster.removeMember({ id: positiveId(id) }, call)),
        }),
      transferLeader: (to, opts) =>
        this.run(opts, {
          route: LEADER,
          write: "plain",
          attempt: async (s, call) => {
            const res = await s.cluster.transferLeader(
              { to: to === undefined ? 0n : positiveId(to) },
              call,
            );
            return { leaderId: fromU64(res.leaderId, "leader_id") };
          },
        }),
      leader: (opts) =>
        this.run(opts, {
          route: ANY,
          write: false,
          attempt: async (s, call) => fromWireLeaderResponse(await s.cluster.leader({}, call)),
        }),
      status: (opts) =>
        this.run(opts, {
          route: opts?.endpoint
            ? { kind: "endpoint", url: toBaseUrl(opts.endpoint, this.scheme) }
            : ANY,
          write: false,
          attempt: async (s, call) => fromWireStatusResponse(await s.cluster.status({}, call)),
        }),
      watchMembers: (opts) => {
        if (this.closed) throw new UnavailableError("the client is closed");
        return networkWatchMembers(this.watchDeps(), opts?.signal);
      },
    };
  }

  private makeMaintenanceApi(): MaintenanceApi {
    return {
      takeSnapshot: (opts): Promise<SnapshotInfo> =>
        this.run(opts, {
          route: LEADER,
          write: "plain",
          attempt: async (s, call) =>
            fromWireTakeSnapshotResponse(await s.maintenance.takeSnapshot({}, call)),
        }),
      downloadSnapshot: (opts) => this.download(opts),
    };
  }

  /**
   * A backup download: the stream is opened (with retries) until its first chunk arrives, then
   * read to the end under the same deadline (none unless opts.timeoutMs: a backup takes as long
   * as it takes) and the same AbortSignal. A break after the first chunk is an error: the
   * consumer has already seen part of the file.
   */
  private async *download(
    opts: (CallOptions & { readonly fresh?: boolean }) | undefined,
  ): AsyncGenerator<Uint8Array> {
    const scope = this.open(opts, opts?.timeoutMs);
    const req = toWireDownloadSnapshotRequest(opts?.fresh);
    try {
      const { first, rest } = await this.attempts(scope, {
        route: LEADER,
        write: false,
        attempt: async (s, call) => {
          const rest = s.maintenance.downloadSnapshot(req, call)[Symbol.asyncIterator]();
          const first = await rest.next();
          return { first, rest };
        },
      });
      if (first.done) return;
      if (first.value.data.length) yield first.value.data;
      for (;;) {
        let r: IteratorResult<{ data: Uint8Array }>;
        try {
          r = await rest.next();
        } catch (e) {
          throw scope.aborted ? this.abortError(scope, false, undefined, 1) : fromConnectError(e);
        }
        if (r.done) return;
        if (r.value.data.length) yield r.value.data;
      }
    } finally {
      this.close_(scope);
    }
  }

  // --- the call machinery ---

  private readOpts<T extends ReadOptions>(opts: T | undefined): T {
    const consistency = opts?.consistency ?? this.consistency;
    return { ...(opts ?? ({} as T)), ...(consistency ? { consistency } : {}) };
  }

  private readRoute(c: Consistency | undefined): Route {
    return c === "eventual" ? ANY : LEADER;
  }

  /** A write with a session: allocated once, reused by every retry. */
  private async write<T>(
    opts: CallOptions | undefined,
    fn: (s: Stubs, session: WriteSession, call: ConnectCallOptions) => Promise<T>,
  ): Promise<T> {
    const explicit = opts?.session;
    const seq = explicit ? undefined : this.sessions.begin();
    const sessionNow = (): WriteSession => explicit ?? this.sessions.session(seq as number);
    let unknown = false;
    try {
      return await this.run(opts, {
        route: LEADER,
        write: "session",
        attempt: (s, call) => fn(s, sessionNow(), call),
      });
    } catch (e) {
      if (e instanceof DEngineError && e.outcomeUnknown) {
        unknown = true;
        e.session = sessionNow();
      }
      throw e;
    } finally {
      if (seq !== undefined) this.sessions.end(seq, unknown);
      else if (explicit && explicit.clientId === this.clientId && !unknown) {
        this.sessions.release(explicit.sequence);
      }
    }
  }

  private open(opts: CallOptions | undefined, timeoutMs: number | undefined): CallScope {
    if (this.closed) throw new UnavailableError("the client is closed");
    const scope = new CallScope(timeoutMs, opts?.signal);
    this.active.add(scope);
    return scope;
  }

  private close_(scope: CallScope): void {
    scope.dispose();
    this.active.delete(scope);
  }

  private async run<T>(opts: CallOptions | undefined, spec: Spec<T>): Promise<T> {
    const scope = this.open(opts, opts?.timeoutMs ?? this.timeoutMs);
    // One span per call, across its attempts (tracing/call-span.ts).
    const trace = startCallTrace();
    scope.trace = trace;
    let failed: unknown;
    try {
      return await this.attempts(scope, spec);
    } catch (e) {
      failed = e;
      throw e;
    } finally {
      endCallTrace(trace, failed);
      this.close_(scope);
    }
  }

  /** Attempts `spec` until it succeeds, fails for good, or the scope ends. */
  private async attempts<T>(scope: CallScope, spec: Spec<T>): Promise<T> {
    let maybeSent = false;
    let last: DEngineError | undefined;
    let attempts = 0;
    let delay = this.initialDelayMs;
    let redirects = 0;
    const backoff = (): number => {
      const d = delay * (0.5 + Math.random() / 2);
      delay = Math.min(delay * 2, this.maxDelayMs);
      return d;
    };
    for (;;) {
      if (scope.aborted)
        throw this.abortError(scope, spec.write !== false && maybeSent, last, attempts);
      let url: string;
      try {
        url = await this.target(spec.route, scope);
      } catch (e) {
        if (scope.aborted) continue;
        last = fromConnectError(e);
        await scope.sleep(backoff());
        continue;
      }
      attempts++;
      try {
        return await spec.attempt(this.stubs(url), attemptCall(scope));
      } catch (err) {
        if (scope.aborted) {
          // Interrupted mid-flight: a write may have reached the leader.
          if (spec.write !== false) maybeSent = true;
          continue;
        }
        const e = fromConnectError(err, { write: spec.write !== false });
        last = e;
        if (spec.write !== false && e.outcomeUnknown) maybeSent = true;
        if (e instanceof NotLeaderError) {
          if (spec.route.kind === "endpoint") throw e;
          const hint = e.leaderAddress ? toBaseUrl(e.leaderAddress, this.scheme) : undefined;
          if (hint && hint !== url) {
            this.leaderUrl = hint;
            if (++redirects <= FREE_REDIRECTS) continue;
          } else {
            this.forgetLeader(url);
          }
          await scope.sleep(backoff());
          continue;
        }
        if (e instanceof ResourceExhaustedError) {
          const wait = Math.max(e.retryAfterMs, this.initialDelayMs);
          if (now() + wait >= scope.deadline) throw e;
          await scope.sleep(wait);
          continue;
        }
        if (e instanceof UnavailableError || e instanceof TimeoutError) {
          // A change without a session cannot be retried once it may have been applied.
          if (spec.write === "plain" && e.outcomeUnknown) throw e;
          if (spec.route.kind === "leader") this.forgetLeader(url);
          await scope.sleep(backoff());
          continue;
        }
        throw e;
      }
    }
  }

  private abortError(
    scope: CallScope,
    outcomeUnknown: boolean,
    last: DEngineError | undefined,
    attempts: number,
  ): DEngineError {
    const tail = last ? `; last error: ${last.message}` : "";
    switch (scope.cause) {
      case "closed":
        return new UnavailableError("the client was closed", outcomeUnknown);
      case "cancelled": {
        const e = new TimeoutError(`the call was cancelled${tail}`, outcomeUnknown);
        (e as { cause?: unknown }).cause = scope.userReason;
        return e;
      }
      default:
        return new TimeoutError(
          `the deadline of ${scope.timeoutMs} ms passed after ${attempts} attempt(s)${tail}`,
          outcomeUnknown,
        );
    }
  }

  private forgetLeader(url: string): void {
    if (this.leaderUrl === url) this.leaderUrl = undefined;
  }

  private async target(route: Route, scope: CallScope): Promise<string> {
    switch (route.kind) {
      case "endpoint":
        return route.url;
      case "any": {
        const url = this.endpoints[this.roundRobin % this.endpoints.length] as string;
        if (!this.transports.pipeline) {
          this.roundRobin = (this.roundRobin + 1) % this.endpoints.length;
        } else if (!this.roundRobinHeld) {
          // Pipelined, the calls of one turn that may go anywhere go to the same node, so they
          // share one message (a message costs the server far more than a call in it); the next
          // turn's go to the next node. Over time the spread is the same; calls awaited one after
          // another still alternate.
          this.roundRobinHeld = true;
          (globalThis.setImmediate ?? setTimeout)(() => {
            this.roundRobinHeld = false;
            this.roundRobin = (this.roundRobin + 1) % this.endpoints.length;
          });
        }
        return url;
      }
      case "leader":
        if (this.leaderUrl) return this.leaderUrl;
        this.discovering ??= this.discover().finally(() => {
          this.discovering = undefined;
        });
        return raceAbort(this.discovering, scope.signal);
    }
  }

  /**
   * Asks every endpoint who leads (Leader RPC, no Raft round) and takes the first answer that
   * names an address. Independent of any one caller's signal: concurrent calls share it.
   */
  private async discover(): Promise<string> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.discoveryTimeoutMs);
    const scopeLike = { signal: ctl.signal, timeoutMs: this.discoveryTimeoutMs };
    const problems: string[] = [];
    try {
      const url = await Promise.any(
        this.endpoints.map(async (ep) => {
          try {
            const res = await this.stubs(ep).cluster.leader({}, scopeLike);
            if (!res.leaderAddress) {
              throw new Error(`${ep} knows no leader (term ${res.term})`);
            }
            return toBaseUrl(res.leaderAddress, this.scheme);
          } catch (e) {
            const msg = e instanceof Error ? e.message : String(e);
            problems.push(`${ep}: ${msg}`);
            throw e;
          }
        }),
      );
      if (!this.closed) this.leaderUrl = url;
      return url;
    } catch {
      throw new UnavailableError(`no leader found (${problems.join("; ")})`);
    } finally {
      clearTimeout(timer);
      ctl.abort();
    }
  }

  private stubs(url: string): Stubs {
    let s = this.stubsByUrl.get(url);
    if (!s) {
      const t = tracedTransport(this.transports.create(url), url);
      const kv = createConnectClient(KvService, t);
      let kvStub: KvStub = kv;
      if (this.transports.pipeline) {
        const p = new KvPipeline(kv, url, {}, this.transports.openPipeline?.(url));
        this.pipelines.push(p);
        kvStub = p.stub;
      }
      s = {
        kv: kvStub,
        cluster: createConnectClient(ClusterService, t),
        maintenance: createConnectClient(MaintenanceService, t),
        lease: createConnectClient(LeaseService, t),
        watch: createConnectClient(WatchService, t),
      };
      this.stubsByUrl.set(url, s);
    }
    return s;
  }
}

/**
 * One attempt's call options. The scope's AbortSignal is made only if the transport reads it
 * (unary calls do); the KV pipeline watches `abortHook` instead, which costs far less per call.
 */
function attemptCall(scope: CallScope): AttemptCall {
  const remaining = scope.remainingMs();
  const values = scope.trace?.values;
  const call: { -readonly [K in keyof AttemptCall]: AttemptCall[K] } = {
    get signal(): AbortSignal {
      return scope.signal;
    },
    abortHook: scope,
  };
  if (remaining !== undefined) call.timeoutMs = remaining;
  if (values) call.contextValues = values;
  return call;
}

function memberList(res: { members: Parameters<typeof fromWireMembers>[0] }): MemberList {
  return fromWireMembers(res.members);
}

function positive(n: number, what: string): number {
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new InvalidArgumentError(`${what} must be a positive number, got ${n}`);
  }
  return n;
}

function positiveId(id: number): bigint {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new InvalidArgumentError(`id must be a positive integer, got ${id}`);
  }
  return BigInt(id);
}
