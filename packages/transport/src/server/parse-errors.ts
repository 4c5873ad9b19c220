// connect-es answers a request body that does not parse as protobuf with Code.Internal
// ("parse binary: ..."), before any handler or interceptor runs. For d-engine that is the
// caller's mistake and must say so: this wrapper rewrites exactly those answers, in each
// protocol's own error format, to InvalidArgument with an ErrorDetail. (Streams whose frames do
// not parse are handled in the handlers; JSON bodies already get InvalidArgument from connect-es.)
import { Code, ConnectError } from "@connectrpc/connect";
import {
  encodeEnvelope,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamFromJson,
  endStreamToJson,
  errorFromJsonBytes,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { InvalidArgumentError } from "@d-engine/client";
import { toConnectError } from "@d-engine/client/wire";

const PARSE = /^parse (binary|JSON)/;

function isParseError(e: ConnectError | undefined): e is ConnectError {
  return e !== undefined && e.code === Code.Internal && PARSE.test(e.rawMessage);
}

function malformed(e: ConnectError): ConnectError {
  return toConnectError(new InvalidArgumentError(`malformed request: ${e.rawMessage}`));
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of body ?? []) {
    parts.push(p);
    n += p.length;
  }
  const out = new Uint8Array(n);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function fixGrpc(res: UniversalServerResponse): UniversalServerResponse {
  const trailer = res.trailer;
  if (!trailer) return res;
  const fix = (): void => {
    const err = findTrailerError(trailer);
    if (isParseError(err)) setTrailerStatus(trailer, malformed(err));
  };
  fix();
  const body = res.body;
  if (!body) return res;
  return {
    ...res,
    body: (async function* () {
      yield* body;
      fix();
    })(),
  };
}

async function fixConnectUnary(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (res.status === 200) return res;
  const bytes = await readAll(res.body);
  try {
    const err = errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Unknown));
    if (isParseError(err)) {
      const body = errorToJsonBytes(malformed(err), undefined);
      const header = new Headers(res.header);
      // connect-es set the length of the body it made; this one is longer.
      header.set("content-length", String(body.length));
      return { ...res, status: codeToHttpStatus(Code.InvalidArgument), header, body: once(body) };
    }
  } catch {
    // Not a Connect error body: leave it as it was.
  }
  return { ...res, body: once(bytes) };
}

function fixConnectStream(res: UniversalServerResponse): UniversalServerResponse {
  const body = res.body;
  if (!body) return res;
  return {
    ...res,
    body: (async function* () {
      for await (const chunk of body) {
        if (chunk.length >= 5 && ((chunk[0] as number) & endStreamFlag) === endStreamFlag) {
          try {
            const end = endStreamFromJson(chunk.subarray(5));
            if (isParseError(end.error)) {
              const json = endStreamToJson(end.metadata, malformed(end.error), undefined);
              yield encodeEnvelope(endStreamFlag, new TextEncoder().encode(JSON.stringify(json)));
              continue;
            }
          } catch {
            // Not an end-stream message we understand: pass it on.
          }
        }
        yield chunk;
      }
    })(),
  };
}

/** `h`, with "parse binary" failures answered as InvalidArgument. */
export function withMalformedAsInvalidArgument(h: UniversalHandler): UniversalHandler {
  const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const res = await h(req);
    const ct = req.header.get("content-type") ?? "";
    if (ct.startsWith("application/grpc-web")) return res;
    if (ct.startsWith("application/grpc")) return fixGrpc(res);
    if (ct.startsWith("application/connect+")) return fixConnectStream(res);
    return fixConnectUnary(res);
  };
  return Object.assign(wrapped, h);
}
