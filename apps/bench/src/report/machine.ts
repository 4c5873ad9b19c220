// What the machine is, printed above the table: figures mean little without it.
import { cpus, loadavg, totalmem } from "node:os";
import { type DiskProbe, describeDisk } from "../proc/disk-probe.js";
import { describeFloor, type FloorProbe } from "../proc/floor-probe.js";

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly ramGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly etcd: string | undefined;
  /** 1-minute load average when the benchmark started: other work skews every figure. */
  readonly loadAtStart: number;
  /** How long the disk takes to make a small append durable (the single-client write floor). */
  readonly disk: DiskProbe | undefined;
  /** A replicated durable write with nothing else: what any store could reach here. */
  readonly floor?: FloorProbe | undefined;
}

export function machineInfo(etcd: string | undefined, disk?: DiskProbe): MachineInfo {
  const c = cpus();
  return {
    cores: c.length,
    cpuModel: c[0]?.model.trim() ?? "unknown",
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    etcd,
    loadAtStart: loadavg()[0] ?? 0,
    disk,
  };
}

export function describeMachine(m: MachineInfo): string {
  return [
    `machine: ${m.cores} cores, ${m.cpuModel}, ${m.ramGiB} GiB RAM, ${m.platform}`,
    `node ${m.node}, etcd ${m.etcd ?? "not installed"}, load average ${m.loadAtStart.toFixed(2)} at start`,
    ...(m.disk ? [describeDisk(m.disk)] : []),
    ...(m.floor ? [describeFloor(m.floor)] : []),
  ].join("\n");
}
