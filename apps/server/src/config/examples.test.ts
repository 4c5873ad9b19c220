// The example config files in examples/ are documentation: they must load, and say what they claim.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./index.js";

const serverDir = fileURLToPath(new URL("../..", import.meta.url));

describe("examples/", () => {
  it("single.yaml is the no-configuration default, written out", () => {
    const fromFile = loadConfig({ configFile: "examples/single.yaml", env: {}, cwd: serverDir });
    const bare = loadConfig({ env: {}, cwd: serverDir });
    expect(fromFile.config).toEqual(bare.config);
  });

  it.each([1, 2, 3])("node%i.toml is one node of the local three-node cluster", (id) => {
    const { config } = loadConfig({
      configFile: `examples/node${id}.toml`,
      env: {},
      cwd: serverDir,
    });
    expect(config.node.id).toBe(id);
    expect(config.node.advertise).toBe(`127.0.0.1:${9080 + id}`);
    expect(config.node.dataDir).toBe(`${serverDir}data/local-cluster/node-${id}`);
    expect(config.cluster.initial).toEqual([
      { id: 1, address: "127.0.0.1:9081" },
      { id: 2, address: "127.0.0.1:9082" },
      { id: 3, address: "127.0.0.1:9083" },
    ]);
  });
});
