// Simulated time: a priority queue of callbacks ordered by (time, insertion order). Time is an
// integer number of microseconds and only moves when the next event runs; nothing reads a clock.

interface Event {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

export class EventQueue {
  /** The current simulated time (microseconds). */
  now = 0;
  private heap: Event[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Runs `run` at time `at` (not before now); events at equal times run in scheduling order. */
  at(at: number, run: () => void): void {
    const time = Math.max(Math.round(at), this.now);
    const ev: Event = { time, seq: this.seq++, run };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(ev, h[p] as Event)) break;
      h[i] = h[p] as Event;
      i = p;
    }
    h[i] = ev;
  }

  /** Runs `run` after `delay` microseconds. */
  after(delay: number, run: () => void): void {
    this.at(this.now + delay, run);
  }

  /** The time of the next event, or undefined if none is scheduled. */
  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  /** Runs the next event. Returns false if there was none. */
  runNext(): boolean {
    const h = this.heap;
    const top = h[0];
    if (!top) return false;
    const last = h.pop() as Event;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r] as Event, h[l] as Event) ? r : l;
        if (!before(h[c] as Event, last)) break;
        h[i] = h[c] as Event;
        i = c;
      }
      h[i] = last;
    }
    this.now = top.time;
    top.run();
    return true;
  }
}

function before(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
