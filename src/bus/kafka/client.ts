import { Kafka, logLevel } from 'kafkajs'
import type { Logger } from '@/observability'
import { kafkaLogCreator } from './log-adapter'

/** The kafkajs client of a node (the bus and the relay thread alike): one configuration. */
export const createKafkaClient = (options: {
  readonly brokers: readonly string[]
  readonly clientId: string
  readonly log: Logger
}): Kafka =>
  new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(options.log),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
  })
