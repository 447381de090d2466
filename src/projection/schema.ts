import { sql } from 'drizzle-orm'
import {
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core'

// Times are stored as epoch milliseconds (UTC) so range filters and ordering use integer indexes;
// the queries turn them back into ISO-8601 UTC strings of the canonical model.
const envelope = {
  eventId: text('event_id').primaryKey(),
  correlationId: text('correlation_id').notNull(),
  source: text('source').notNull(),
  sourceFile: text('source_file'),
  sourceSha256: text('source_sha256'),
  schemaVersion: integer('schema_version').notNull(),
  ingestedAt: integer('ingested_at').notNull(),
  /** When the projection applied the event (epoch ms): ingest → queryable latency. */
  projectedAt: integer('projected_at').notNull(),
}

export const dispatch = sqliteTable(
  'dispatch',
  {
    ...envelope,
    regionId: text('region_id').notNull(),
    fuelType: text('fuel_type').notNull(),
    intervalEnd: integer('interval_end').notNull(),
    valueMw: real('value_mw').notNull(),
    unitCount: integer('unit_count').notNull(),
    // Manual readings (source 'api') only; null on AEMO's rows. The row is the CURRENT revision of
    // its (region, fuel, interval); every revision is kept in dispatch_revisions.
    revision: integer('revision'),
    writtenBy: text('written_by'),
    previousValueMw: real('previous_value_mw'),
  },
  (t) => [
    index('dispatch_by_time').on(t.intervalEnd, t.eventId),
    index('dispatch_by_region_time').on(t.regionId, t.intervalEnd, t.eventId),
    index('dispatch_by_fuel_time').on(t.fuelType, t.intervalEnd, t.eventId),
    // One current manual row per key (partial: AEMO's hot insert path pays nothing for it).
    uniqueIndex('dispatch_manual_key')
      .on(t.regionId, t.fuelType, t.intervalEnd)
      .where(sql`source = 'api'`),
  ]
)

/**
 * Every revision of every manual reading, immutable: who wrote which value when, and what it
 * replaced. A (region, fuel, interval, revision) slot is filled once, by the first event for it in
 * log order (the same on every node); a later different value for the slot becomes a dead letter.
 */
export const dispatchRevisions = sqliteTable(
  'dispatch_revisions',
  {
    eventId: text('event_id').primaryKey(),
    regionId: text('region_id').notNull(),
    fuelType: text('fuel_type').notNull(),
    intervalEnd: integer('interval_end').notNull(),
    revision: integer('revision').notNull(),
    valueMw: real('value_mw').notNull(),
    previousValueMw: real('previous_value_mw'),
    writtenBy: text('written_by'),
    /** The event's ingested_at (epoch ms): when the API accepted the write. */
    writtenAt: integer('written_at').notNull(),
    correlationId: text('correlation_id').notNull(),
  },
  (t) => [
    uniqueIndex('dispatch_revisions_slot').on(t.regionId, t.fuelType, t.intervalEnd, t.revision),
  ]
)

export const prices = sqliteTable(
  'prices',
  {
    ...envelope,
    regionId: text('region_id').notNull(),
    intervalEnd: integer('interval_end').notNull(),
    rrpAudMwh: real('rrp_aud_mwh').notNull(),
    totalDemandMw: real('total_demand_mw'),
    availableGenerationMw: real('available_generation_mw'),
    netInterchangeMw: real('net_interchange_mw'),
    intervention: integer('intervention', { mode: 'boolean' }).notNull(),
  },
  (t) => [
    index('prices_by_time').on(t.intervalEnd, t.eventId),
    index('prices_by_region_time').on(t.regionId, t.intervalEnd, t.eventId),
  ]
)

export const weather = sqliteTable(
  'weather',
  {
    ...envelope,
    regionId: text('region_id').notNull(),
    location: text('location').notNull(),
    latitude: real('latitude').notNull(),
    longitude: real('longitude').notNull(),
    observedAt: integer('observed_at').notNull(),
    temperatureC: real('temperature_c'),
    relativeHumidityPct: real('relative_humidity_pct'),
    windSpeedKmh: real('wind_speed_kmh'),
    windDirectionDeg: real('wind_direction_deg'),
    cloudCoverPct: real('cloud_cover_pct'),
    shortwaveRadiationWm2: real('shortwave_radiation_wm2'),
  },
  (t) => [
    index('weather_by_time').on(t.observedAt, t.eventId),
    index('weather_by_region_time').on(t.regionId, t.observedAt, t.eventId),
  ]
)

export const deadLetters = sqliteTable(
  'dead_letters',
  {
    id: text('id').primaryKey(),
    topic: text('topic').notNull(),
    code: text('code').notNull(),
    reason: text('reason').notNull(),
    correlationId: text('correlation_id'),
    source: text('source').notNull(),
    sourceFile: text('source_file'),
    row: integer('row'),
    raw: text('raw').notNull(),
    failedAt: integer('failed_at').notNull(),
  },
  (t) => [index('dead_letters_by_time').on(t.failedAt, t.id)]
)

/** Consumer positions, committed in the same transaction as the rows they produced (effectively-once). */
export const checkpoints = sqliteTable(
  'checkpoints',
  {
    consumer: text('consumer').notNull(),
    topic: text('topic').notNull(),
    partition: integer('partition').notNull(),
    // Offsets stay below 2^53 for centuries at NEM volumes, so a JS number is exact.
    nextOffset: integer('next_offset').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.topic, t.partition] })]
)

/**
 * API keys for AUTH_MODE=keys. Only a sha256 of the secret part is stored; the key is shown once.
 * Not part of the rebuildable read model: a projection rebuild leaves it alone.
 */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  consumer: text('consumer').notNull(),
  scope: text('scope', { enum: ['read', 'write'] }).notNull(),
  secretSha256: text('secret_sha256').notNull(),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
})

export const scadaReconciliation = sqliteTable(
  'scada_reconciliation',
  {
    ...envelope,
    intervalEnd: integer('interval_end').notNull(),
    totalMw: real('total_mw').notNull(),
    generationMw: real('generation_mw').notNull(),
    loadMw: real('load_mw').notNull(),
    unmappedMw: real('unmapped_mw').notNull(),
    unitCount: integer('unit_count').notNull(),
    /** JSON array of { duid, value_mw }. */
    unmappedUnits: text('unmapped_units').notNull(),
  },
  (t) => [index('scada_reconciliation_by_time').on(t.intervalEnd, t.eventId)]
)

export const interconnectorFlows = sqliteTable(
  'interconnector_flows',
  {
    ...envelope,
    interconnectorId: text('interconnector_id').notNull(),
    intervalEnd: integer('interval_end').notNull(),
    mwFlow: real('mw_flow').notNull(),
    meteredMwFlow: real('metered_mw_flow'),
    mwLosses: real('mw_losses'),
    exportLimitMw: real('export_limit_mw'),
    importLimitMw: real('import_limit_mw'),
    intervention: integer('intervention', { mode: 'boolean' }).notNull(),
  },
  (t) => [
    index('interconnector_flows_by_time').on(t.intervalEnd, t.eventId),
    index('interconnector_flows_by_id_time').on(t.interconnectorId, t.intervalEnd, t.eventId),
  ]
)
