// The window of append messages sent to one follower but not yet acknowledged. The leader stops
// sending when the window is full by message count or by bytes, which bounds the memory a slow
// follower can pin and keeps the pipe full for a fast one.

export class Inflights {
  // A ring buffer of (last index in the message, bytes in the message), oldest first.
  private indexes: number[] = [];
  private sizes: number[] = [];
  private start = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {
    if (maxCount <= 0) throw new RangeError(`maxInflightMsgs must be > 0, got ${maxCount}`);
  }

  /** Records a message whose last entry is `index` and whose entries weigh `bytes`. */
  add(index: number, bytes: number): void {
    if (this.full()) throw new Error("Inflights.add on a full window");
    const capacity = this.maxCount;
    if (this.indexes.length < capacity) {
      this.indexes.length = capacity;
      this.sizes.length = capacity;
    }
    const slot = (this.start + this.count) % capacity;
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    const capacity = this.maxCount;
    while (this.count > 0) {
      const idx = this.indexes[this.start] as number;
      if (idx > index) break;
      this.bytes -= this.sizes[this.start] as number;
      this.start = (this.start + 1) % capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** True when no more messages may be sent: the count or the byte budget is used up. */
  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  get length(): number {
    return this.count;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }

  clone(): Inflights {
    const c = new Inflights(this.maxCount, this.maxBytes);
    c.indexes = this.indexes.slice();
    c.sizes = this.sizes.slice();
    c.start = this.start;
    c.count = this.count;
    c.bytes = this.bytes;
    return c;
  }
}
