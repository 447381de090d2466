export { isMigrated, migrate, openProjectionDb, type ProjectionDb } from './db'
export { createProjector, type Projector } from './projector'
export {
  createReadPort,
  isTraced,
  type GapRange,
  type DispatchRevision,
  type GenerationMix,
  type Page,
  type RenewablesInterval,
  type RooftopPvEstimate,
  type ReadPort,
  type RangeQuery,
  type Stats,
} from './read-port'
export {
  createLagMonitor,
  type LagMonitor,
  type LagSnapshot,
  projectionLagCheck,
  readPositions,
} from './checkpoints'
