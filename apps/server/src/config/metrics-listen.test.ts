// metrics.listen: derived from node.listen unless set, "off" disables, and it cannot be derived
// past the top of the port range or share the node's port.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";

const load = (env: Record<string, string>) => loadConfig({ env, cwd: "/srv" }).config;

function issues(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, cwd: "/srv" });
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.origin}: ${i.message}`);
    throw e;
  }
  return [];
}

describe("metrics.listen", () => {
  it("defaults to loopback at the node's port + 100", () => {
    expect(load({}).metrics.listen).toBe("127.0.0.1:9181");
    expect(
      load({ DENGINE_LISTEN: "0.0.0.0:7000", DENGINE_ADVERTISE: "10.0.0.2:7000" }).metrics.listen,
    ).toBe("127.0.0.1:7100");
  });

  it("takes an address or off from the environment and flags", () => {
    expect(load({ DENGINE_METRICS_LISTEN: "0.0.0.0:9999" }).metrics.listen).toBe("0.0.0.0:9999");
    expect(load({ DENGINE_METRICS_LISTEN: "off" }).metrics.listen).toBe("off");
    const flagged = loadConfig({
      env: {},
      cwd: "/srv",
      flags: { metricsListen: "127.0.0.1:1234" },
    });
    expect(flagged.config.metrics.listen).toBe("127.0.0.1:1234");
    expect(flagged.originOf("metrics.listen")).toBe("flag --metrics-listen");
  });

  it("refuses what is neither an address nor off", () => {
    expect(issues({ DENGINE_METRICS_LISTEN: "nope" }).join("\n")).toMatch(
      /metrics\.listen must be host:port .*or "off"/,
    );
  });

  it("must be set when the node's port leaves no room for the default", () => {
    expect(issues({ DENGINE_LISTEN: "127.0.0.1:65500" }).join("\n")).toMatch(
      /metrics\.listen must be set when node\.listen's port is above 65435/,
    );
    expect(
      load({ DENGINE_LISTEN: "127.0.0.1:65500", DENGINE_METRICS_LISTEN: "off" }).metrics.listen,
    ).toBe("off");
  });

  it("must not take the node's own port", () => {
    expect(issues({ DENGINE_METRICS_LISTEN: "127.0.0.1:9081" }).join("\n")).toMatch(
      /metrics\.listen must not use node\.listen's port/,
    );
    expect(
      issues({
        DENGINE_LISTEN: "0.0.0.0:9081",
        DENGINE_ADVERTISE: "10.0.0.1:9081",
        DENGINE_METRICS_LISTEN: "127.0.0.1:9081",
      }).join("\n"),
    ).toMatch(/must not use node\.listen's port/);
    expect(load({ DENGINE_METRICS_LISTEN: "127.0.0.2:9081" }).metrics.listen).toBe(
      "127.0.0.2:9081",
    );
  });
});
