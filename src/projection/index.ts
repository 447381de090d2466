export { isMigrated, migrate, openProjectionDb, type ProjectionDb } from './db'
export { createProjector, type Projector } from './projector'
export {
  createQueries,
  type GapRange,
  type DispatchRevision,
  type GenerationMix,
  type Page,
  type Queries,
  type RangeQuery,
  type Stats,
} from './queries'
export {
  createLagMonitor,
  type LagMonitor,
  type LagSnapshot,
  projectionLagCheck,
  readPositions,
} from './checkpoints'
