/** Kafka topic names (DESIGN.md); the embedded log uses the same names. */
export const TOPICS = {
  dispatch: 'market.dispatch',
  prices: 'market.prices',
  weather: 'weather.observations',
  // Not in the seed: interconnector flows (DISPATCH.INTERCONNECTORRES), keyed by interconnector.
  interconnectors: 'market.interconnectors',
  // Not in the seed: AEMO's half-hourly rooftop PV estimates (ROOFTOP_PV/ACTUAL), keyed by region.
  rooftop: 'market.rooftop_pv',
  // Not in the seed: FCAS prices (DISPATCH.PRICE), one event per region, service and interval.
  fcas: 'market.fcas',
  // Not in the seed: the upstream files events came from (lineage), keyed by source.
  files: 'sources.files',
} as const
export type EventTopic = (typeof TOPICS)[keyof typeof TOPICS]
export const EVENT_TOPICS: readonly EventTopic[] = Object.values(TOPICS)

export const dlqTopicFor = (topic: string): string => `dlq.${topic}`
export const DLQ_TOPICS: readonly string[] = EVENT_TOPICS.map(dlqTopicFor)

/** NEM-wide events (SCADA reconciliation) share one key, so they too stay in order. */
export const NEM_KEY = 'NEM'
