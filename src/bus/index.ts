export { createEmbeddedBus, type EmbeddedBusOptions } from './embedded/embedded-bus'
export type { KafkaSecurity } from './kafka/client'
export { createKafkaBus, type KafkaBus, type KafkaBusOptions } from './kafka/kafka-bus'
export {
  ALERT_DELIVERIES_TOPIC,
  ALERT_RULES_TOPIC,
  CHECKPOINT_TOPIC,
  LEADER_GROUP,
  LEADERSHIP_TOPIC,
  TopicMismatchError,
} from './kafka/topics'
export {
  type BusHealth,
  type ConsumedBatch,
  type ConsumedRecord,
  type Consumer,
  type ControlRecord,
  type EventBus,
  partitionKey,
  type PublishOptions,
  type RawMessage,
  type SharedTopics,
  type SourceCheckpoint,
  type Subscription,
} from './port'
export { decodeMessage, encodeDeadLetter, encodeEvent, type OutgoingMessage } from './serde'
