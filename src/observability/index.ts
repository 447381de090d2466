export {
  createSourceRegistry,
  isFresh,
  type SourceRegistry,
  type SourceStatus,
  sourcesCheck,
} from './health'
export { type CheckResult, createReadiness, type ReadinessReport } from './readiness'
export { createMetrics, type Metrics } from './metrics'
export { createLogger, type Logger, type LogLevel, silentLogger } from './logger'
export { logProcessWarnings } from './warnings'
export {
  createMetricsPage,
  instrumentedSink,
  observeFetched,
  observeProjected,
  observeStreamed,
} from './pipeline-metrics'
