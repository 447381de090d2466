import { getTableColumns, getTableName } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import type { DeadLetter, GridEvent } from '@/canonical'
import type { ProjectionDb } from './db'
import {
  deadLetters,
  dispatch,
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
          upsertDispatch.run({
            ...envelope,
            regionId: event.region_id,
            fuelType: event.fuel_type,
            intervalEnd: Date.parse(event.interval_end),
            valueMw: event.value_mw,
            unitCount: event.unit_count,
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
    applyDeadLetter(record: DeadLetter): void {
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
    },
  }
}
