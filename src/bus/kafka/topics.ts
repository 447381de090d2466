import { DLQ_TOPICS, EVENT_TOPICS } from '@/canonical'

/** Control topic: the shared source checkpoints, keyed by source, compacted (latest cursor per source). */
export const CHECKPOINT_TOPIC = 'gridpulse.source-checkpoints'
/** Control topic: one partition; the member of {@link LEADER_GROUP} assigned partition 0 is the leader. */
export const LEADERSHIP_TOPIC = 'gridpulse.leadership'
export const LEADER_GROUP = 'gridpulse.leader'
/**
 * Control topic: every alert rule change (create, patch, enable/disable, delete), keyed by rule
 * id, value the rule's whole new state (a delete is a `deleted` record: the outbox carries strings,
 * not tombstones). Compacted: the newest state of every rule survives forever, so a node started
 * from nothing rebuilds every rule. One partition: one order for all nodes. Holds webhook secrets.
 */
export const ALERT_RULES_TOPIC = 'gridpulse.alert-rules'
/**
 * Control topic: every webhook attempt the leader made (with its alert), so every node keeps the
 * delivery log and knows which firings are settled when it becomes the leader. 7 days like the data.
 */
export const ALERT_DELIVERIES_TOPIC = 'gridpulse.alert-deliveries'

/** DESIGN.md: 7-day retention on every data topic. */
export const RETENTION_MS = 604_800_000

export interface TopicSpec {
  /** The name GridPulse uses (DESIGN.md); the physical name adds the configured prefix. */
  readonly logical: string
  readonly partitions: number
  /** Topic configs GridPulse creates the topic with and verifies at start-up. */
  readonly configs: Readonly<Record<string, string>>
}

/** What exists on the broker, as far as {@link diffTopic} compares it. */
export interface ActualTopic {
  readonly partitions: number
  readonly configs: Readonly<Record<string, string | undefined>>
}

/** The Kafka layout of DESIGN.md plus the control topics of the distributed mode. */
export function topicLayout(
  options: { partitions?: number; retentionMs?: number } = {}
): TopicSpec[] {
  const retention = {
    'cleanup.policy': 'delete',
    'retention.ms': String(options.retentionMs ?? RETENTION_MS),
  }
  return [
    ...EVENT_TOPICS.map((logical) => ({
      logical,
      partitions: options.partitions ?? 3,
      configs: retention,
    })),
    ...DLQ_TOPICS.map((logical) => ({ logical, partitions: 1, configs: retention })),
    // Compacted: the newest cursor per source survives forever; retention does not apply.
    { logical: CHECKPOINT_TOPIC, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    { logical: LEADERSHIP_TOPIC, partitions: 1, configs: retention },
    { logical: ALERT_RULES_TOPIC, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    { logical: ALERT_DELIVERIES_TOPIC, partitions: 1, configs: retention },
  ]
}

/** Human-readable differences between what GridPulse needs and what the broker has; empty when they match. */
export function diffTopic(spec: TopicSpec, actual: ActualTopic): string[] {
  const problems: string[] = []
  if (actual.partitions !== spec.partitions) {
    problems.push(
      `it has ${actual.partitions} partition${actual.partitions === 1 ? '' : 's'}, GridPulse needs ${spec.partitions}`
    )
  }
  for (const [name, want] of Object.entries(spec.configs)) {
    const have = actual.configs[name]
    if (have !== want) problems.push(`${name} is ${have ?? 'unset'}, GridPulse needs ${want}`)
  }
  return problems
}

/** Start-up refuses to run against topics laid out differently: keys would land in other partitions. */
export class TopicMismatchError extends Error {
  override name = 'TopicMismatchError'
  constructor(readonly mismatches: ReadonlyArray<{ topic: string; problems: readonly string[] }>) {
    super(
      `Kafka topics do not match GridPulse's layout (DESIGN.md): ${mismatches
        .map((m) => `topic ${m.topic}: ${m.problems.join('; ')}`)
        .join(
          ' | '
        )}. Fix the topic configuration (partition counts cannot shrink: recreate the topic) and restart.`
    )
  }
}
