export { createEmbeddedBus, type EmbeddedBusOptions } from './embedded/embedded-bus'
export type { KafkaSecurity } from './kafka/client'
export { createKafkaBus, type KafkaBus, type KafkaBusOptions } from './kafka/kafka-bus'
export {
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
  type EventBus,
  partitionKey,
  type PublishOptions,
  type RawMessage,
  type SourceCheckpoint,
  type Subscription,
} from './port'
export { decodeMessage, encodeDeadLetter, encodeEvent, type OutgoingMessage } from './serde'
