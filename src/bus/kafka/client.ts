import { Kafka, type KafkaConfig, logLevel } from 'kafkajs'
import type { Logger } from '@/observability'
import { kafkaLogCreator } from './log-adapter'

/**
 * How a node authenticates to Kafka and protects the connection (KAFKA_SASL_*, KAFKA_TLS*).
 * Plain data (strings only): the relay thread receives it through postMessage.
 */
export interface KafkaSecurity {
  /** SASL/SCRAM: the password never goes over the wire (salted challenge-response). */
  readonly sasl?: {
    readonly mechanism: 'scram-sha-256' | 'scram-sha-512'
    readonly username: string
    readonly password: string
  }
  /** TLS to the brokers; `ca` (PEM) replaces the system roots, e.g. for a private CA. */
  readonly tls?: { readonly ca?: string }
}

/** The kafkajs connection settings for {@link KafkaSecurity}. */
export function securityOptions(security: KafkaSecurity = {}): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {}
  if (security.tls) options.ssl = security.tls.ca ? { ca: [security.tls.ca] } : true
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl
    // Two literals, because kafkajs types each mechanism's options separately.
    options.sasl =
      mechanism === 'scram-sha-256'
        ? { mechanism, username, password }
        : { mechanism, username, password }
  }
  return options
}

/**
 * A rejected login (wrong SCRAM password, unknown user, a mechanism the listener does not enable):
 * retrying with the same credentials cannot succeed, so start-up stops at once with this error.
 */
export const isAuthenticationError = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'KafkaJSSASLAuthenticationError' ||
    (error.cause instanceof Error && error.cause.name === 'KafkaJSSASLAuthenticationError'))

/** The kafkajs client of a node (the bus and the relay thread alike): one configuration. */
export const createKafkaClient = (options: {
  readonly brokers: readonly string[]
  readonly clientId: string
  readonly log: Logger
  readonly security?: KafkaSecurity
}): Kafka =>
  new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(options.log),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    ...securityOptions(options.security),
  })
