export {
  createDeadLetter,
  type DeadLetter,
  type DeadLetterOrigin,
  DeadLetterSchema,
  describeIssues,
} from './dead-letter'
export {
  type EventEnvelope,
  SCHEMA_VERSION,
  type SourceName,
  SourceNameSchema,
  UtcInstantSchema,
} from './envelope'
export type { EventSpecOf } from './event-spec'
export {
  type InterconnectorFlowEvent,
  InterconnectorFlowEventSchema,
} from './events/interconnector-flow'
export {
  MAX_REVISION,
  type MarketDispatchEvent,
  MarketDispatchEventSchema,
} from './events/market-dispatch'
export {
  FCAS_SERVICES,
  type FcasService,
  FcasServiceSchema,
  type RegionFcasPriceEvent,
  RegionFcasPriceEventSchema,
} from './events/region-fcas-price'
export { type RegionPriceEvent, RegionPriceEventSchema } from './events/region-price'
export {
  ROOFTOP_SUB_REGIONS,
  type RooftopEstimateType,
  RooftopEstimateTypeSchema,
  type RooftopPvEvent,
  RooftopPvEventSchema,
  type RooftopSubRegionId,
  RooftopSubRegionIdSchema,
} from './events/rooftop-pv'
export {
  type ScadaReconciliationEvent,
  ScadaReconciliationEventSchema,
} from './events/scada-reconciliation'
export { type SourceFileEvent, SourceFileEventSchema } from './events/source-file'
export { type WeatherObservation, WeatherObservationSchema } from './events/weather-observation'
export { FUEL_TYPES, type FuelType, FuelTypeSchema, manualSignViolation } from './fuel-type'
export { REGION_IDS, type RegionId, RegionIdSchema } from './region'
export {
  createEvent,
  EVENT_REGISTRY,
  EVENT_TYPES,
  type EventBody,
  type EventIdentity,
  type EventOf,
  type EventSpec,
  eventIdFor,
  eventTimeOf,
  type GridEvent,
  GridEventSchema,
  type GridEventType,
  type IdentityOf,
  keyFor,
  topicFor,
} from './registry'
export { DLQ_TOPICS, dlqTopicFor, EVENT_TOPICS, type EventTopic, NEM_KEY, TOPICS } from './streams'
export {
  type Alert,
  type AlertCondition,
  AlertConditionSchema,
  type AlertDelivery,
  AlertDeliverySchema,
  type AlertKind,
  type AlertRule,
  type AlertRuleInput,
  AlertRuleInputSchema,
  type AlertRulePatch,
  AlertRulePatchSchema,
  AlertRuleSchema,
  AlertSchema,
} from './alerts'
export { curtailmentMw, regionCurtailmentMw } from './quantities'
