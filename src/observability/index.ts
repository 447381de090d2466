export { createSourceRegistry, type SourceRegistry, type SourceStatus } from './health'
export { type CheckResult, createReadiness, type ReadinessReport } from './readiness'
export { createMetrics, type Metrics } from './metrics'
export { createLogger, type Logger, type LogLevel, silentLogger } from './logger'
