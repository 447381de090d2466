export {
  classifySourceFailure,
  DomainError,
  ERROR_CODES,
  type ErrorCode,
  SOURCE_FAILURE_REASONS,
  type SourceFailureReason,
  UpstreamError,
} from './errors'
export { partitionFor, murmur2 } from './murmur2'
export { backoffMs } from './retry'
export { readAtMost } from './stream'
export { FIVE_MINUTES_MS, intervalEndFor, sleep, toUtcIso, toUtcIsoMs } from './time'
export { sha256Hex, uuidV5 } from './uuid'
export {
  createLoopRegistry,
  type LoopRegistry,
  type LoopState,
  type LoopStatus,
  stalledLoops,
  supervise,
  type Supervisor,
  type SupervisorLog,
} from './supervisor'
export { createGroupCommit } from './group-commit'
