import { getTableColumns, getTableName } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import {
  createDeadLetter,
  type DeadLetter,
  EVENT_REGISTRY,
  type GridEvent,
  type MarketDispatchEvent,
  manualSignViolation,
} from '@/canonical'
import type { ProjectionDb } from './db'
import {
  deadLetters,
  dispatch,
  dispatchRevisions,
  interconnectorFlows,
  prices,
  scadaReconciliation,
  weather,
} from './schema'

/**
 * `INSERT … ON CONFLICT (key) DO UPDATE` for every column of a drizzle table, as one raw bun:sqlite
 * statement with named parameters (the columns' property names). Written from the schema, run
 * without drizzle's per-call parameter mapping: this is the projector's hot path.
 */
function upsertStatement(db: ProjectionDb, table: SQLiteTable, conflict: 'update' | 'ignore') {
  const columns = Object.entries(getTableColumns(table))
  const names = columns.map(([, c]) => `"${c.name}"`).join(', ')
  const params = columns.map(([key]) => `$${key}`).join(', ')
  const key = columns.find(([, c]) => c.primary)![1].name
  const onConflict =
    conflict === 'ignore'
      ? 'DO NOTHING'
      : `DO UPDATE SET ${columns
          .filter(([, c]) => !c.primary)
          .map(([, c]) => `"${c.name}" = excluded."${c.name}"`)
          .join(', ')}`
  return db.sqlite.prepare(
    `INSERT INTO "${getTableName(table)}" (${names}) VALUES (${params}) ON CONFLICT ("${key}") ${onConflict}`
  )
}

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
function createManualDispatchApplier(db: ProjectionDb, deadLetter: (record: DeadLetter) => void) {
  const slot = db.sqlite.prepare(
    `SELECT event_id AS eventId, value_mw AS valueMw, written_by AS writtenBy FROM dispatch_revisions
     WHERE region_id = $regionId AND fuel_type = $fuelType AND interval_end = $intervalEnd AND revision = $revision`
  )
  const insertRevision = upsertStatement(db, dispatchRevisions, 'ignore')
  const columns = Object.entries(getTableColumns(dispatch))
  // The current row of the key follows the highest revision; the partial unique index
  // dispatch_manual_key is the conflict target, so a manual key never has two current rows.
  const upsertCurrent = db.sqlite.prepare(
    `INSERT INTO "${getTableName(dispatch)}" (${columns.map(([, c]) => `"${c.name}"`).join(', ')})
     VALUES (${columns.map(([key]) => `$${key}`).join(', ')})
     ON CONFLICT ("region_id", "fuel_type", "interval_end") WHERE source = 'api'
     DO UPDATE SET ${columns.map(([, c]) => `"${c.name}" = excluded."${c.name}"`).join(', ')}
     WHERE excluded."revision" > "dispatch"."revision"`
  )

  const reject = (event: MarketDispatchEvent, code: string, reason: string) => {
    const raw = JSON.stringify(event)
    deadLetter(
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

  return (
    event: MarketDispatchEvent,
    envelope: { ingestedAt: number } & Record<string, string | number | null>
  ): void => {
    const revision = event.revision ?? 1 // events from before revisions existed are first writes
    const key = {
      regionId: event.region_id,
      fuelType: event.fuel_type,
      intervalEnd: Date.parse(event.interval_end),
    }
    const what = `${event.region_id} ${event.fuel_type} at ${event.interval_end}`
    const sign = manualSignViolation(event.fuel_type, event.value_mw)
    if (sign) return reject(event, 'validation_failed', sign)
    const taken = slot.get({ ...key, revision }) as { eventId: string; valueMw: number } | null
    if (taken) {
      // The same value again (a retried POST, a redelivery) is not a conflict: first writer stays.
      if (taken.valueMw !== event.value_mw)
        reject(
          event,
          'conflict',
          `revision ${revision} of ${what} is already ${taken.valueMw} MW (event ${taken.eventId}); ${event.value_mw} MW was not applied`
        )
      return
    }
    const previous =
      revision > 1
        ? (slot.get({ ...key, revision: revision - 1 }) as { valueMw: number } | null)
        : null
    if (revision > 1 && !previous)
      return reject(
        event,
        'conflict',
        `revision ${revision} of ${what} has no revision ${revision - 1} to replace`
      )
    if (previous && previous.valueMw !== event.previous_value_mw)
      return reject(
        event,
        'conflict',
        `revision ${revision} of ${what} was written against ${event.previous_value_mw} MW but revision ${revision - 1} is ${previous.valueMw} MW`
      )
    const previousValueMw = previous?.valueMw ?? null
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

/**
 * Prepared, idempotent upserts keyed on `event_id`. Applying an event twice leaves the same row.
 * Synchronous: bun:sqlite is, so a whole batch fits in one transaction.
 */
export function createApplier(db: ProjectionDb) {
  const upsertDispatch = upsertStatement(db, dispatch, 'update')
  const upsertPrice = upsertStatement(db, prices, 'update')
  const upsertWeather = upsertStatement(db, weather, 'update')
  const upsertReconciliation = upsertStatement(db, scadaReconciliation, 'update')
  const upsertFlow = upsertStatement(db, interconnectorFlows, 'update')
  const insertDeadLetter = upsertStatement(db, deadLetters, 'ignore')
  const applyDeadLetter = (record: DeadLetter): void => {
    insertDeadLetter.run({
      id: record.dead_letter_id,
      topic: record.topic,
      code: record.code,
      reason: record.reason,
      correlationId: record.correlation_id,
      source: record.source,
      sourceFile: record.source_file,
      row: record.row,
      raw: record.raw,
      failedAt: Date.parse(record.failed_at),
    })
  }
  const applyManualDispatch = createManualDispatchApplier(db, applyDeadLetter)

  return {
    applyEvent(event: GridEvent, projectedAt: number): void {
      const envelope = {
        eventId: event.event_id,
        correlationId: event.correlation_id,
        source: event.source,
        sourceFile: event.source_file,
        sourceSha256: event.source_sha256,
        schemaVersion: event.schema_version,
        ingestedAt: Date.parse(event.ingested_at),
        projectedAt,
      }
      switch (event.event_type) {
        case 'MarketDispatchEvent':
          if (event.source === 'api') return applyManualDispatch(event, envelope)
          upsertDispatch.run({
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
          return
        case 'RegionPriceEvent':
          upsertPrice.run({
            ...envelope,
            regionId: event.region_id,
            intervalEnd: Date.parse(event.interval_end),
            rrpAudMwh: event.rrp_aud_mwh,
            totalDemandMw: event.total_demand_mw,
            availableGenerationMw: event.available_generation_mw,
            netInterchangeMw: event.net_interchange_mw,
            intervention: event.intervention ? 1 : 0,
          })
          return
        case 'WeatherObservation':
          upsertWeather.run({
            ...envelope,
            regionId: event.region_id,
            location: event.location,
            latitude: event.latitude,
            longitude: event.longitude,
            observedAt: Date.parse(event.observed_at),
            temperatureC: event.temperature_c,
            relativeHumidityPct: event.relative_humidity_pct,
            windSpeedKmh: event.wind_speed_kmh,
            windDirectionDeg: event.wind_direction_deg,
            cloudCoverPct: event.cloud_cover_pct,
            shortwaveRadiationWm2: event.shortwave_radiation_wm2,
          })
          return
        case 'ScadaReconciliationEvent':
          upsertReconciliation.run({
            ...envelope,
            intervalEnd: Date.parse(event.interval_end),
            totalMw: event.total_mw,
            generationMw: event.generation_mw,
            loadMw: event.load_mw,
            unmappedMw: event.unmapped_mw,
            unitCount: event.unit_count,
            unmappedUnits: JSON.stringify(event.unmapped_units),
          })
          return
        case 'InterconnectorFlowEvent':
          upsertFlow.run({
            ...envelope,
            interconnectorId: event.interconnector_id,
            intervalEnd: Date.parse(event.interval_end),
            mwFlow: event.mw_flow,
            meteredMwFlow: event.metered_mw_flow,
            mwLosses: event.mw_losses,
            exportLimitMw: event.export_limit_mw,
            importLimitMw: event.import_limit_mw,
            intervention: event.intervention ? 1 : 0,
          })
          return
        default: {
          // A new event type must get a table here: fail the batch rather than drop it silently.
          const unhandled: never = event
          throw new Error(`no projection for ${(unhandled as { event_type: string }).event_type}`)
        }
      }
    },
    applyDeadLetter,
  }
}
