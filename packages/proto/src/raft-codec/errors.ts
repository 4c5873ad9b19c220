/** Bytes or values that are not a valid encoding (a malformed record, frame or message). */
export class CodecError extends RangeError {
  override name = "CodecError";
}
