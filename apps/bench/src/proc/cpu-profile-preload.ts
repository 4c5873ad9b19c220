// Loaded with `--import` through NODE_OPTIONS into processes the benchmark does not spawn itself
// (the standalone servers; NODE_OPTIONS refuses --cpu-prof): profiles the whole process with the
// in-process inspector and writes a .cpuprofile into BENCH_CPU_PROF_DIR when it exits. An
// in-thread inspector session answers synchronously, so the profile is written within 'exit'.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, `CPU.${Date.now()}.${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      );
    });
  });
}
