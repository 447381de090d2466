import { afterAll, describe, expect, test } from 'bun:test'
import { TopicMismatchError } from '@/bus'
import { waitFor } from '../support/events'
import {
  announceSkip,
  KAFKA_BROKERS,
  openTestBus,
  plainKafka,
  tempDir,
  uniquePrefix,
} from './support'

announceSkip('Kafka topic verification tests (tests/integration/topics.test.ts)')

describe.skipIf(!KAFKA_BROKERS)('start-up topic verification', () => {
  const dir = tempDir('kafka-topics')
  afterAll(() => dir.remove())

  test('creates the topics with the DESIGN.md layout when they are missing', async () => {
    const prefix = uniquePrefix()
    const bus = await openTestBus({ prefix, dir: dir.path, leadership: false })
    await bus.close()
    const admin = plainKafka().admin()
    await admin.connect()
    try {
      const names = (suffix: string[]) => suffix.map((s) => `${prefix}${s}`)
      const { topics } = await admin.fetchTopicMetadata({
        topics: names([
          'market.dispatch',
          'market.prices',
          'weather.observations',
          'dlq.market.dispatch',
          'gridpulse.source-checkpoints',
          'gridpulse.leadership',
          'gridpulse.alert-rules',
          'gridpulse.alert-deliveries',
        ]),
      })
      expect(
        Object.fromEntries(topics.map((t) => [t.name.slice(prefix.length), t.partitions.length]))
      ).toEqual({
        'market.dispatch': 3,
        'market.prices': 3,
        'weather.observations': 3,
        'dlq.market.dispatch': 1,
        'gridpulse.source-checkpoints': 1,
        'gridpulse.leadership': 1,
        'gridpulse.alert-rules': 1,
        'gridpulse.alert-deliveries': 1,
      })
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: names([
          'market.prices',
          'gridpulse.source-checkpoints',
          'gridpulse.alert-rules',
          'gridpulse.alert-deliveries',
        ]).map((name) => ({
          type: 2,
          name,
          configNames: ['retention.ms', 'cleanup.policy'],
        })),
      })
      const config = (topic: string, key: string) =>
        resources
          .find((r) => r.resourceName === `${prefix}${topic}`)!
          .configEntries.find((c) => c.configName === key)?.configValue
      expect(config('market.prices', 'retention.ms')).toBe('604800000')
      expect(config('market.prices', 'cleanup.policy')).toBe('delete')
      expect(config('gridpulse.source-checkpoints', 'cleanup.policy')).toBe('compact')
      // Every rule's newest state forever; the leader's attempts for the data's 7 days.
      expect(config('gridpulse.alert-rules', 'cleanup.policy')).toBe('compact')
      expect(config('gridpulse.alert-deliveries', 'cleanup.policy')).toBe('delete')
      expect(config('gridpulse.alert-deliveries', 'retention.ms')).toBe('604800000')
    } finally {
      await admin.disconnect()
    }
  }, 60_000)

  test('refuses to start when a topic has another partition count or retention, naming both', async () => {
    const prefix = uniquePrefix()
    const admin = plainKafka().admin()
    await admin.connect()
    try {
      // kafkajs's waitForLeaders can read metadata before a new topic reached it (a retriable
      // UNKNOWN_TOPIC_OR_PARTITION it sometimes throws anyway): the topics were created all the
      // same, so wait for them to be described rather than trusting that call.
      const mismatched = [`${prefix}market.dispatch`, `${prefix}weather.observations`]
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: [
            { topic: `${prefix}market.dispatch`, numPartitions: 6 },
            {
              topic: `${prefix}weather.observations`,
              numPartitions: 3,
              configEntries: [{ name: 'retention.ms', value: '86400000' }],
            },
          ],
        })
        .catch(() => {})
      await waitFor(
        () =>
          admin
            .fetchTopicMetadata({ topics: mismatched })
            .then((m) => m.topics.every((t) => t.partitions.length > 0))
            .catch(() => false),
        'the mismatched topics to be described',
        30_000
      )
    } finally {
      await admin.disconnect()
    }
    const attempt = openTestBus({ prefix, dir: dir.path, leadership: false })
    await expect(attempt).rejects.toBeInstanceOf(TopicMismatchError)
    const message = await attempt.then(
      () => '',
      (error: Error) => error.message
    )
    expect(message).toContain(
      `topic ${prefix}market.dispatch: it has 6 partitions, GridPulse needs 3`
    )
    expect(message).toContain(
      `topic ${prefix}weather.observations: retention.ms is 86400000, GridPulse needs 604800000`
    )
    expect(message).not.toContain('market.prices')
  }, 60_000)
})
