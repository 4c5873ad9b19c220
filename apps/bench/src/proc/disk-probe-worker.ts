// One writer of the disk probe (disk-probe.ts): opens its file, says so, waits for "go", then times
// `appends` durable appends of `bytes` each and sends their latencies back.
// Usage (forked, with IPC): disk-probe-worker <file> <appends> <bytes>
import { closeSync, constants, fdatasyncSync, openSync, writeSync } from "node:fs";
import { performance } from "node:perf_hooks";

export interface ProbeReport {
  readonly latenciesMs: number[];
}

// As the file log: O_DSYNC where the platform has it, else a data sync after every write.
const O_DSYNC: number = constants.O_DSYNC ?? 0;

function main(): void {
  const [file, appendsArg, bytesArg] = process.argv.slice(2);
  const appends = Number(appendsArg);
  const bytes = Number(bytesArg);
  if (!file || !(appends > 0) || !(bytes > 0)) {
    console.error("usage: disk-probe-worker <file> <appends> <bytes>");
    process.exit(2);
  }
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | O_DSYNC);
  const data = Buffer.alloc(bytes, 0x5a);
  process.once("message", () => {
    const latenciesMs: number[] = [];
    for (let i = 0; i < appends; i++) {
      const t0 = performance.now();
      writeSync(fd, data);
      if (O_DSYNC === 0) fdatasyncSync(fd);
      latenciesMs.push(performance.now() - t0);
    }
    closeSync(fd);
    process.send?.({ latenciesMs } satisfies ProbeReport, () => process.exit(0));
  });
  process.send?.("ready");
}

main();
