import { eq, getTableColumns, getTableName, sql } from 'drizzle-orm'
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import {
  createDeadLetter,
  EVENT_REGISTRY,
  type FuelType,
  type MarketDispatchEvent,
  manualSignViolation,
  type RegionId,
} from '@/canonical'
import { FIVE_MINUTES_MS, toUtcIso, toUtcIsoMs } from '@/lib'
import type { ProjectionDb } from '../db'
import { power } from './aggregate'
import type { RangeQuery } from './pager'
import {
  type EnvelopeParams,
  byApiCorrelation,
  envelopeColumns,
  envelopeOf,
  type ReadModel,
  upsertStatement,
  type WriterContext,
} from './read-model'
import { createSeriesQueries, type SeriesQueries, type SeriesSpec } from './series'

export const dispatch = sqliteTable(
  'dispatch',
  {
    ...envelopeColumns(),
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
    byApiCorrelation('dispatch', t),
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
    // Lineage of a revision that a newer one has replaced on the dispatch row (null before these
    // columns existed).
    projectedAt: integer('projected_at'),
    logPartition: integer('log_partition'),
    logOffset: integer('log_offset'),
  },
  (t) => [
    uniqueIndex('dispatch_revisions_slot').on(t.regionId, t.fuelType, t.intervalEnd, t.revision),
  ]
)

type DispatchRow = typeof dispatch.$inferSelect

const toDispatch = (row: DispatchRow): MarketDispatchEvent => ({
  ...envelopeOf(row),
  event_type: 'MarketDispatchEvent',
  region_id: row.regionId as RegionId,
  fuel_type: row.fuelType as FuelType,
  interval_end: toUtcIso(row.intervalEnd),
  value_mw: row.valueMw,
  unit_count: row.unitCount,
  // Manual rows only: AEMO's rows keep exactly the fields they always had.
  ...(row.revision === null
    ? {}
    : {
        revision: row.revision,
        ...(row.writtenBy === null ? {} : { written_by: row.writtenBy }),
        ...(row.previousValueMw === null ? {} : { previous_value_mw: row.previousValueMw }),
      }),
})

/**
 * Manual readings (source `api`) are chains of immutable revisions. The API refuses conflicting
 * writes (409) by looking at this projection and at its own not-yet-projected writes, but two nodes
 * (or a direct Kafka producer) can still race past that check. So the projection is the authority,
 * deterministic on every node because it follows log order: a (region, fuel, interval, revision)
 * slot is filled by the FIRST event for it; a later event with a different value for a filled slot,
 * a revision whose predecessor is missing or had another value than it claims to replace, or a value
 * that breaks the manual sign rules, is recorded as a dead letter (code `conflict` /
 * `validation_failed`) and changes nothing. History is never silently rewritten.
 */
function createManualDispatchWriter(db: ProjectionDb, context: WriterContext) {
  const { slot, insertRevision, upsertCurrent } = manualStatements(db)
  return (event: MarketDispatchEvent, envelope: EnvelopeParams): void => {
    const revision = event.revision ?? 1 // events from before revisions existed are first writes
    const key = {
      regionId: event.region_id,
      fuelType: event.fuel_type,
      intervalEnd: Date.parse(event.interval_end),
    }
    const check = checkManualSlot(event, revision, (r) => slot.get({ ...key, revision: r }) as Slot)
    if (check.kind === 'refused') return rejectManual(context, event, check.code, check.reason)
    if (check.kind === 'duplicate') return
    const previousValueMw = check.previousValueMw
    const writtenBy = event.written_by ?? null
    insertRevision.run({
      ...key,
      eventId: event.event_id,
      revision,
      valueMw: event.value_mw,
      previousValueMw,
      writtenBy,
      writtenAt: envelope.ingestedAt,
      correlationId: event.correlation_id,
      projectedAt: envelope.projectedAt,
      logPartition: envelope.logPartition,
      logOffset: envelope.logOffset,
    })
    upsertCurrent.run({
      ...envelope,
      ...key,
      valueMw: event.value_mw,
      unitCount: event.unit_count,
      revision,
      writtenBy,
      previousValueMw,
    })
  }
}

type Slot = { eventId: string; valueMw: number } | null

function manualStatements(db: ProjectionDb) {
  const columns = Object.entries(getTableColumns(dispatch))
  return {
    slot: db.sqlite.prepare(
      `SELECT event_id AS eventId, value_mw AS valueMw, written_by AS writtenBy FROM dispatch_revisions
       WHERE region_id = $regionId AND fuel_type = $fuelType AND interval_end = $intervalEnd AND revision = $revision`
    ),
    insertRevision: upsertStatement(db, dispatchRevisions, 'ignore'),
    // The current row of the key follows the highest revision; the partial unique index
    // dispatch_manual_key is the conflict target, so a manual key never has two current rows.
    upsertCurrent: db.sqlite.prepare(
      `INSERT INTO "${getTableName(dispatch)}" (${columns.map(([, c]) => `"${c.name}"`).join(', ')})
       VALUES (${columns.map(([key]) => `$${key}`).join(', ')})
       ON CONFLICT ("region_id", "fuel_type", "interval_end") WHERE source = 'api'
       DO UPDATE SET ${columns.map(([, c]) => `"${c.name}" = excluded."${c.name}"`).join(', ')}
       WHERE excluded."revision" > "dispatch"."revision"`
    ),
  }
}

/** Whether a manual event fills its slot, repeats it, or is refused (and why), in log order. */
function checkManualSlot(
  event: MarketDispatchEvent,
  revision: number,
  slotOf: (revision: number) => Slot
):
  | { kind: 'fill'; previousValueMw: number | null }
  | { kind: 'duplicate' }
  | { kind: 'refused'; code: 'validation_failed' | 'conflict'; reason: string } {
  const what = `${event.region_id} ${event.fuel_type} at ${event.interval_end}`
  const sign = manualSignViolation(event.fuel_type, event.value_mw)
  if (sign) return { kind: 'refused', code: 'validation_failed', reason: sign }
  const taken = slotOf(revision)
  if (taken) {
    // The same value again (a retried POST, a redelivery) is not a conflict: first writer stays.
    if (taken.valueMw === event.value_mw) return { kind: 'duplicate' }
    return {
      kind: 'refused',
      code: 'conflict',
      reason: `revision ${revision} of ${what} is already ${taken.valueMw} MW (event ${taken.eventId}); ${event.value_mw} MW was not applied`,
    }
  }
  const previous = revision > 1 ? slotOf(revision - 1) : null
  if (revision > 1 && !previous)
    return {
      kind: 'refused',
      code: 'conflict',
      reason: `revision ${revision} of ${what} has no revision ${revision - 1} to replace`,
    }
  if (previous && previous.valueMw !== event.previous_value_mw)
    return {
      kind: 'refused',
      code: 'conflict',
      reason: `revision ${revision} of ${what} was written against ${event.previous_value_mw} MW but revision ${revision - 1} is ${previous.valueMw} MW`,
    }
  return { kind: 'fill', previousValueMw: previous?.valueMw ?? null }
}

function rejectManual(
  context: WriterContext,
  event: MarketDispatchEvent,
  code: string,
  reason: string
): void {
  const raw = JSON.stringify(event)
  context.deadLetter(
    createDeadLetter({
      origin: 'projection',
      identity: raw,
      topic: EVENT_REGISTRY.MarketDispatchEvent.topic,
      code,
      reason,
      correlation_id: event.correlation_id,
      source: event.source,
      source_file: null,
      row: null,
      raw,
      // The write's own time, not the projection's: every node records the same dead letter.
      failed_at: event.ingested_at,
    })
  )
}

/** One revision of a manual reading, oldest first in a history. */
export interface DispatchRevision {
  readonly event_id: string
  readonly revision: number
  readonly value_mw: number
  readonly previous_value_mw: number | null
  readonly written_by: string | null
  readonly written_at: string
  readonly correlation_id: string
}

type DispatchQuery = RangeQuery & { regionId?: RegionId; fuelType?: FuelType }

const series: SeriesSpec<DispatchRow, MarketDispatchEvent> = {
  eventType: 'MarketDispatchEvent',
  table: dispatch,
  time: dispatch.intervalEnd,
  id: dispatch.eventId,
  filters: { regionId: dispatch.regionId, fuelType: dispatch.fuelType },
  toCanonical: toDispatch,
  cadenceMs: FIVE_MINUTES_MS,
  aggregate: {
    // AEMO's SCADA and manual readings (source `api`) of the same region and fuel are separate
    // series: summing them would count the same generation twice.
    series: { region_id: dispatch.regionId, fuel_type: dispatch.fuelType, source: dispatch.source },
    measures: [power('value_mw', dispatch.valueMw, 'energy_mwh')],
  },
}

export interface DispatchQueries
  extends SeriesQueries<DispatchRow, MarketDispatchEvent, DispatchQuery> {
  /** Every revision of the manual reading for (region, fuel, interval), oldest first. */
  revisions(regionId: RegionId, fuelType: FuelType, intervalEnd: string): DispatchRevision[]
  byEventId(eventId: string): MarketDispatchEvent | undefined
}

export const dispatchReadModel: ReadModel<'MarketDispatchEvent', DispatchQueries, 'dispatch'> = {
  eventType: 'MarketDispatchEvent',
  port: 'dispatch',
  table: dispatch,
  time: dispatch.intervalEnd,
  dispatchIntervals: true,
  regionStats: [
    {
      region: dispatch.regionId,
      value: dispatch.valueMw,
      count: 'dispatch_count',
      prefix: 'value_mw',
      counts: 'rows',
    },
  ],
  writer(db, context) {
    const upsert = upsertStatement(db, dispatch, 'update')
    const writeManual = createManualDispatchWriter(db, context)
    return (event, envelope) => {
      if (event.source === 'api') return writeManual(event, envelope)
      upsert.run({
        ...envelope,
        regionId: event.region_id,
        fuelType: event.fuel_type,
        intervalEnd: Date.parse(event.interval_end),
        valueMw: event.value_mw,
        unitCount: event.unit_count,
        revision: null,
        writtenBy: null,
        previousValueMw: null,
      })
    }
  },
  series,
  queries(db) {
    const revisionsOf = db.sqlite.prepare(
      `SELECT event_id, revision, value_mw, previous_value_mw, written_by, written_at, correlation_id
       FROM dispatch_revisions WHERE region_id = $regionId AND fuel_type = $fuelType AND interval_end = $intervalEnd
       ORDER BY revision`
    )
    return {
      ...createSeriesQueries<DispatchRow, MarketDispatchEvent, DispatchQuery>(db, series),
      revisions(regionId, fuelType, intervalEnd) {
        const rows = revisionsOf.all({
          regionId,
          fuelType,
          intervalEnd: Date.parse(intervalEnd),
        }) as (Omit<DispatchRevision, 'written_at'> & { written_at: number })[]
        return rows.map((r) => ({ ...r, written_at: toUtcIsoMs(r.written_at) }))
      },
      byEventId(eventId) {
        const row = db.orm.select().from(dispatch).where(eq(dispatch.eventId, eventId)).get()
        return row ? toDispatch(row) : undefined
      },
    }
  },
}
