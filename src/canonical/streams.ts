import { z } from 'zod'
import type { GridEvent, GridEventType } from './events'
import { UtcInstantSchema } from './envelope'

/** Kafka topic names (DESIGN.md); the embedded log uses the same names. */
export const TOPICS = {
  dispatch: 'market.dispatch',
  prices: 'market.prices',
  weather: 'weather.observations',
  // Not in the seed: interconnector flows (DISPATCH.INTERCONNECTORRES), keyed by interconnector.
  interconnectors: 'market.interconnectors',
} as const
export type EventTopic = (typeof TOPICS)[keyof typeof TOPICS]
export const EVENT_TOPICS: readonly EventTopic[] = Object.values(TOPICS)

export const TOPIC_BY_EVENT_TYPE: Record<GridEventType, EventTopic> = {
  MarketDispatchEvent: TOPICS.dispatch,
  RegionPriceEvent: TOPICS.prices,
  WeatherObservation: TOPICS.weather,
  ScadaReconciliationEvent: TOPICS.dispatch,
  InterconnectorFlowEvent: TOPICS.interconnectors,
}

export const dlqTopicFor = (topic: string): string => `dlq.${topic}`
export const DLQ_TOPICS: readonly string[] = EVENT_TOPICS.map(dlqTopicFor)

/** NEM-wide events (SCADA reconciliation) share one key, so they too stay in order. */
export const NEM_KEY = 'NEM'

/** The partitioning identity of an event: its region, so one region's events stay in order. */
export const keyFor = (event: GridEvent): string =>
  'region_id' in event
    ? event.region_id
    : 'interconnector_id' in event
      ? event.interconnector_id
      : NEM_KEY

/**
 * A rejected input, as written to `dlq.<topic>`: the reason, the raw payload (as text, so invalid
 * JSON or CSV survives verbatim) and enough provenance to find and replay it.
 */
export const DeadLetterSchema = z
  .object({
    dead_letter_id: z.uuid().describe('Deterministic id of the rejected input'),
    topic: z.string().describe('The topic the input was meant for'),
    reason: z.string().min(1).max(2_000),
    code: z.string().min(1).max(64).describe('Stable machine-readable reason slug'),
    correlation_id: z.string().min(1).max(128).nullable(),
    source: z.string().max(64),
    source_file: z.string().max(512).nullable(),
    row: z
      .number()
      .int()
      .min(0)
      .nullable()
      .describe('Row (line) number in the source file, 1-based'),
    raw: z.string().max(1_000_000).describe('The rejected payload, verbatim (truncated at 1 MB)'),
    failed_at: UtcInstantSchema,
  })
  .strict()
export type DeadLetter = z.infer<typeof DeadLetterSchema>
