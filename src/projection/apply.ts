import { getTableColumns, sql } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import type { DeadLetter, GridEvent } from '@/canonical'
import type { ProjectionDb } from './db'
import { deadLetters, dispatch, prices, scadaReconciliation, weather } from './schema'

const p = (name: string) => sql.placeholder(name)
const envelopeValues = {
  eventId: p('eventId'),
  correlationId: p('correlationId'),
  source: p('source'),
  sourceFile: p('sourceFile'),
  sourceSha256: p('sourceSha256'),
  schemaVersion: p('schemaVersion'),
  ingestedAt: p('ingestedAt'),
  projectedAt: p('projectedAt'),
}
/** On a re-delivered or re-ingested event id the row is overwritten with the same (or corrected) values. */
const updateAll = (table: SQLiteTable) =>
  Object.fromEntries(
    Object.entries(getTableColumns(table))
      .filter(([key]) => key !== 'eventId')
      .map(([key, column]) => [key, sql.raw(`excluded.${column.name}`)])
  )

/**
 * Prepared, idempotent upserts keyed on `event_id`. Applying an event twice leaves the same row.
 * Synchronous: bun:sqlite is, so a whole batch fits in one transaction.
 */
export function createApplier(db: ProjectionDb) {
  const { orm } = db
  const upsertDispatch = orm
    .insert(dispatch)
    .values({
      ...envelopeValues,
      regionId: p('regionId'),
      fuelType: p('fuelType'),
      intervalEnd: p('intervalEnd'),
      valueMw: p('valueMw'),
      unitCount: p('unitCount'),
    })
    .onConflictDoUpdate({ target: dispatch.eventId, set: updateAll(dispatch) })
    .prepare()
  const upsertPrice = orm
    .insert(prices)
    .values({
      ...envelopeValues,
      regionId: p('regionId'),
      intervalEnd: p('intervalEnd'),
      rrpAudMwh: p('rrpAudMwh'),
      totalDemandMw: p('totalDemandMw'),
      availableGenerationMw: p('availableGenerationMw'),
      netInterchangeMw: p('netInterchangeMw'),
      intervention: p('intervention'),
    })
    .onConflictDoUpdate({ target: prices.eventId, set: updateAll(prices) })
    .prepare()
  const upsertWeather = orm
    .insert(weather)
    .values({
      ...envelopeValues,
      regionId: p('regionId'),
      location: p('location'),
      latitude: p('latitude'),
      longitude: p('longitude'),
      observedAt: p('observedAt'),
      temperatureC: p('temperatureC'),
      relativeHumidityPct: p('relativeHumidityPct'),
      windSpeedKmh: p('windSpeedKmh'),
      windDirectionDeg: p('windDirectionDeg'),
      cloudCoverPct: p('cloudCoverPct'),
      shortwaveRadiationWm2: p('shortwaveRadiationWm2'),
    })
    .onConflictDoUpdate({ target: weather.eventId, set: updateAll(weather) })
    .prepare()
  const upsertReconciliation = orm
    .insert(scadaReconciliation)
    .values({
      ...envelopeValues,
      intervalEnd: p('intervalEnd'),
      totalMw: p('totalMw'),
      generationMw: p('generationMw'),
      loadMw: p('loadMw'),
      unmappedMw: p('unmappedMw'),
      unitCount: p('unitCount'),
      unmappedUnits: p('unmappedUnits'),
    })
    .onConflictDoUpdate({ target: scadaReconciliation.eventId, set: updateAll(scadaReconciliation) })
    .prepare()
  const insertDeadLetter = orm
    .insert(deadLetters)
    .values({
      id: p('id'),
      topic: p('topic'),
      code: p('code'),
      reason: p('reason'),
      correlationId: p('correlationId'),
      source: p('source'),
      sourceFile: p('sourceFile'),
      row: p('row'),
      raw: p('raw'),
      failedAt: p('failedAt'),
    })
    .onConflictDoNothing()
    .prepare()

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
