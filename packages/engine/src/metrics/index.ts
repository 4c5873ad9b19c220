// A node's metrics and spans (see engine-metrics.ts and tracing.ts).
export { EngineMetrics, METRIC_NAMES, type MetricsSources } from "./engine-metrics.js";
export { failSpan, tracer } from "./tracing.js";
