import { describe, expect, test } from 'bun:test'
import { diffTopic, TopicMismatchError, topicLayout } from './topics'

describe('Kafka topic layout', () => {
  const layout = topicLayout()
  const spec = (name: string) => layout.find((t) => t.logical === name)!

  test('DESIGN.md: 3 partitions per event topic, 1 per DLQ, 7 days; compacted checkpoints', () => {
    expect(Object.fromEntries(layout.map((t) => [t.logical, t.partitions]))).toEqual({
      'market.dispatch': 3,
      'market.prices': 3,
      'weather.observations': 3,
      'market.interconnectors': 3,
      'market.rooftop_pv': 3,
      'market.fcas': 3,
      'sources.files': 3,
      'dlq.market.dispatch': 1,
      'dlq.market.prices': 1,
      'dlq.weather.observations': 1,
      'dlq.market.interconnectors': 1,
      'dlq.market.rooftop_pv': 1,
      'dlq.market.fcas': 1,
      'dlq.sources.files': 1,
      'gridpulse.source-checkpoints': 1,
      'gridpulse.leadership': 1,
      'gridpulse.alert-rules': 1,
      'gridpulse.alert-deliveries': 1,
    })
    expect(spec('market.prices').configs).toEqual({
      'cleanup.policy': 'delete',
      'retention.ms': '604800000',
    })
    expect(spec('gridpulse.source-checkpoints').configs).toEqual({ 'cleanup.policy': 'compact' })
    expect(spec('gridpulse.alert-rules').configs).toEqual({ 'cleanup.policy': 'compact' })
    expect(spec('gridpulse.alert-deliveries').configs).toEqual(spec('market.prices').configs)
  })

  test('a matching topic has no differences; each mismatch is named', () => {
    expect(
      diffTopic(spec('market.dispatch'), {
        partitions: 3,
        configs: { 'cleanup.policy': 'delete', 'retention.ms': '604800000' },
      })
    ).toEqual([])
    expect(
      diffTopic(spec('market.dispatch'), {
        partitions: 6,
        configs: { 'cleanup.policy': 'delete', 'retention.ms': '86400000' },
      })
    ).toEqual([
      'it has 6 partitions, GridPulse needs 3',
      'retention.ms is 86400000, GridPulse needs 604800000',
    ])
    expect(diffTopic(spec('gridpulse.source-checkpoints'), { partitions: 1, configs: {} })).toEqual(
      ['cleanup.policy is unset, GridPulse needs compact']
    )
  })

  test('the start-up error names every topic and its differences', () => {
    const error = new TopicMismatchError([
      { topic: 'market.dispatch', problems: ['it has 6 partitions, GridPulse needs 3'] },
    ])
    expect(error.message).toContain('topic market.dispatch: it has 6 partitions, GridPulse needs 3')
  })
})
