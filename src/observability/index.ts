export { createSourceRegistry, type SourceRegistry, type SourceStatus } from './health'
export { createLogger, type Logger, type LogLevel, silentLogger } from './logger'
