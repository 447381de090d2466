export { FUEL_TYPES, type FuelType, FuelTypeSchema, manualSignViolation } from './fuel-type'
export { SCHEMA_VERSION, type SourceName, SourceNameSchema, UtcInstantSchema } from './envelope'
export {
  eventIdFor,
  type GridEvent,
  GridEventSchema,
  type GridEventType,
  type InterconnectorFlowEvent,
  InterconnectorFlowEventSchema,
  MAX_REVISION,
  type MarketDispatchEvent,
  MarketDispatchEventSchema,
  type RegionPriceEvent,
  RegionPriceEventSchema,
  type ScadaReconciliationEvent,
  ScadaReconciliationEventSchema,
  type WeatherObservation,
  WeatherObservationSchema,
} from './events'
export { REGION_IDS, type RegionId, RegionIdSchema } from './region'
export {
  type DeadLetter,
  DeadLetterSchema,
  DLQ_TOPICS,
  dlqTopicFor,
  EVENT_TOPICS,
  type EventTopic,
  keyFor,
  NEM_KEY,
  TOPIC_BY_EVENT_TYPE,
  TOPICS,
} from './streams'
