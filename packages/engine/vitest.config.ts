import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Cluster tests run real timers and fsyncs on a shared 2-core machine: give them room, but
    // every wait inside a test has its own, shorter, deadline that names what it waited for.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
