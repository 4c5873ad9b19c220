// Random KvService.Pipeline messages, from a seeded generator: the values the hand-written codecs
// must agree with protobuf-es on. Numbers are often 0 (left out on the wire), mostly small,
// sometimes just below 2^53 and, with `big`, past it (where the hand codecs hand over to
// protobuf-es); bytes are empty, short, or around the one-byte length boundary; client ids are
// empty, ASCII, Cyrillic, CJK with an emoji, a lone surrogate (written as U+FFFD) and long.
import { create } from "@bufbuild/protobuf";
import {
  DeleteRequestSchema,
  DeleteResponseSchema,
  GetRequestSchema,
  GetResponseSchema,
  type PipelineCall,
  PipelineCallSchema,
  PipelineErrorSchema,
  type PipelineResult,
  PipelineResultSchema,
  PutRequestSchema,
  PutResponseSchema,
} from "../api.js";
import { type KeyValue, KeyValueSchema } from "../gen/dengine/v1/kv_pb.js";
import type { SeededRng } from "./seeded-rng.js";

/** A uint64; `big` also draws values past 2^53. */
export function randomU64(rng: SeededRng, big: boolean): bigint {
  switch (rng.nextInt(big ? 6 : 5)) {
    case 0:
      return 0n;
    case 1:
    case 2:
      return BigInt(rng.nextInt(300));
    case 3:
      return BigInt(rng.nextInt(2 ** 31)) * BigInt(1 + rng.nextInt(1000));
    case 4:
      return BigInt(Number.MAX_SAFE_INTEGER) - BigInt(rng.nextInt(3));
    default:
      return BigInt(Number.MAX_SAFE_INTEGER) + 1n + BigInt(rng.nextInt(1000));
  }
}

export function randomBytes(rng: SeededRng): Uint8Array {
  const n = [0, 1, 8, 127, 128, 256, 300][rng.nextInt(7)] as number;
  return Uint8Array.from({ length: n }, () => rng.nextInt(256));
}

export const CLIENT_IDS: readonly string[] = [
  "",
  "c-4f2a9",
  "клиент",
  "客户端-😀",
  "a\ud800b",
  "x".repeat(200),
];

/** A call: a put (with or without a session), a get, a delete, or no request at all. */
export function randomPipelineCall(rng: SeededRng, big: boolean): PipelineCall {
  const u64 = () => randomU64(rng, big);
  const id = u64();
  const timeoutMs = u64();
  switch (rng.nextInt(5)) {
    case 0:
    case 1: {
      const session =
        rng.nextInt(3) > 0
          ? {
              session: {
                clientId: CLIENT_IDS[rng.nextInt(CLIENT_IDS.length)] as string,
                sequence: u64(),
                firstIncomplete: u64(),
              },
            }
          : {};
      const value = create(PutRequestSchema, {
        key: randomBytes(rng),
        value: randomBytes(rng),
        lease: u64(),
        ttlSeconds: u64(),
        prevKv: rng.nextInt(2) === 1,
        ...session,
      });
      return create(PipelineCallSchema, { id, timeoutMs, request: { case: "put", value } });
    }
    case 2: {
      const value = create(GetRequestSchema, {
        key: randomBytes(rng),
        revision: u64(),
        // The known consistencies, and values no enum names (an open enum keeps them).
        consistency: [0, 1, 2, 3, 200, -1][rng.nextInt(6)] as number,
      });
      return create(PipelineCallSchema, { id, timeoutMs, request: { case: "get", value } });
    }
    case 3: {
      const value = create(DeleteRequestSchema, { key: randomBytes(rng) });
      return create(PipelineCallSchema, { id, request: { case: "delete", value } });
    }
    default:
      return create(PipelineCallSchema, { id, timeoutMs });
  }
}

export function randomKeyValue(rng: SeededRng, big: boolean): KeyValue {
  return create(KeyValueSchema, {
    key: randomBytes(rng),
    createRevision: randomU64(rng, big),
    modRevision: randomU64(rng, big),
    version: randomU64(rng, big),
    value: randomBytes(rng),
    lease: randomU64(rng, big),
  });
}

/** A result: a get (with or without its key-value), a put, a delete, or an error. */
export function randomPipelineResult(rng: SeededRng, big: boolean): PipelineResult {
  const u64 = () => randomU64(rng, big);
  const id = u64();
  switch (rng.nextInt(6)) {
    case 0:
    case 1: {
      const kv = rng.nextInt(4) > 0 ? { kv: randomKeyValue(rng, big) } : {};
      const value = create(GetResponseSchema, { revision: u64(), ...kv });
      return create(PipelineResultSchema, { id, result: { case: "get", value } });
    }
    case 2:
    case 3: {
      const prev = rng.nextInt(2) ? { prevKv: randomKeyValue(rng, big) } : {};
      const value = create(PutResponseSchema, { revision: u64(), lease: u64(), ...prev });
      return create(PipelineResultSchema, { id, result: { case: "put", value } });
    }
    case 4: {
      const value = create(DeleteResponseSchema, { revision: u64() });
      return create(PipelineResultSchema, { id, result: { case: "delete", value } });
    }
    default: {
      const value = create(PipelineErrorSchema, { code: rng.nextInt(17), message: "no leader" });
      return create(PipelineResultSchema, { id, result: { case: "error", value } });
    }
  }
}
