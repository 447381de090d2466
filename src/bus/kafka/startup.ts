import { type Admin, ConfigResourceTypes } from 'kafkajs'
import { backoffMs, sleep } from '@/lib'
import type { Logger } from '@/observability'
import { isAuthenticationError } from './client'
import type { TopicNames } from './consumer'
import { type ActualTopic, diffTopic, type TopicSpec, TopicMismatchError } from './topics'

/** Start-up's progress: what the bus's health reports and what its background loops wait on. */
export interface Startup {
  /** Resolves once the topics exist and match; rejects when Kafka refuses this node for good. */
  readonly started: Promise<void>
  /** Background starts wait on this; a refused node leaves them waiting until close. */
  readonly topicsReady: Promise<void>
  verified(): boolean
  /** Why the last attempt failed, while start-up still retries. */
  lastError(): string | undefined
  /** Why Kafka refused this node, once it did. */
  fatal(): string | undefined
}

export interface StartupOptions {
  readonly admin: Admin
  readonly layout: readonly TopicSpec[]
  readonly names: TopicNames
  readonly log: Logger
  /** Aborts when the bus closes: start-up stops retrying, and its end is no failure. */
  readonly signal: AbortSignal
  /** Kafka answered and the topics are verified. */
  readonly onVerified: () => void
  readonly onFatal?: (error: Error) => void
}

/**
 * Creates and verifies the topics in the background ({@link connectAndEnsureTopics}). Only a
 * refusal that waiting cannot heal ({@link refusesForGood}) ends it: logged at fatal and reported
 * through `onFatal`, unless the bus was closed meanwhile.
 */
export function startInBackground(options: StartupOptions): Startup {
  let verified = false
  let lastError: string | undefined
  let fatal: string | undefined
  const started = connectAndEnsureTopics(options, (error) => {
    lastError = error
  }).then(() => {
    verified = true
    lastError = undefined
    options.onVerified()
  })
  started.catch((error) => {
    if (options.signal.aborted) return
    fatal = error instanceof Error ? error.message : String(error)
    options.log.fatal(
      { err: error },
      'Kafka refused this node (topic layout or credentials); it cannot run'
    )
    options.onFatal?.(error instanceof Error ? error : new Error(fatal))
  })
  return {
    started,
    topicsReady: started.catch(() => new Promise<void>(() => {})),
    verified: () => verified,
    lastError: () => lastError,
    fatal: () => fatal,
  }
}

/** Wrong credentials or topics laid out differently cannot heal by waiting: the node stops. */
const refusesForGood = (error: unknown): boolean =>
  error instanceof TopicMismatchError || isAuthenticationError(error)

/**
 * Connects the admin client and creates/verifies the topics, retrying with a capped backoff for as
 * long as Kafka is unreachable (an edge node may start hours before its broker). One warning when
 * Kafka does not answer, then debug lines; only a refusal for good ends it (rejects).
 */
async function connectAndEnsureTopics(
  { admin, layout, names, log, signal }: StartupOptions,
  onError: (message: string) => void
) {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await admin.connect()
      await ensureTopics(admin, layout, names, log)
      if (attempt > 1) log.info({ attempts: attempt }, 'Kafka answered; topics verified')
      return
    } catch (error) {
      if (refusesForGood(error)) throw error
      const retryInMs = 200 + backoffMs(attempt, 500, 30_000)
      onError(error instanceof Error ? error.message : String(error))
      const fields = { err: error, attempt, retry_in_ms: retryInMs }
      if (attempt === 1)
        log.warn(fields, 'Kafka is not reachable; serving from the outbox and retrying')
      else log.debug(fields, 'Kafka is still not reachable')
      await sleep(retryInMs, signal)
    }
  }
  throw new Error('closed before Kafka was reached')
}

/**
 * The explicit admin step of start-up: creates missing topics with GridPulse's layout, then checks
 * every topic (also ones created by someone else) against it.
 */
export async function ensureTopics(
  admin: Admin,
  layout: readonly TopicSpec[],
  names: TopicNames,
  log: Logger
): Promise<void> {
  await createMissingTopics(admin, layout, names, log)
  const mismatches = await topicMismatches(admin, layout, names)
  if (mismatches.length > 0) throw new TopicMismatchError(mismatches)
}

async function createMissingTopics(
  admin: Admin,
  layout: readonly TopicSpec[],
  names: TopicNames,
  log: Logger
) {
  const existing = new Set(await admin.listTopics())
  const missing = layout.filter((t) => !existing.has(names.physical(t.logical)))
  if (missing.length === 0) return
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({
      topic: names.physical(t.logical),
      numPartitions: t.partitions,
      configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
    })),
  })
  log.info({ topics: missing.map((t) => names.physical(t.logical)) }, 'created Kafka topics')
}

/** Every topic of the layout whose partition count or configs on the broker differ, and how. */
async function topicMismatches(admin: Admin, layout: readonly TopicSpec[], names: TopicNames) {
  const physical = layout.map((t) => names.physical(t.logical))
  const metadata = await admin.fetchTopicMetadata({ topics: physical })
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: physical.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: ['cleanup.policy', 'retention.ms'],
    })),
  })
  const mismatches: { topic: string; problems: string[] }[] = []
  for (const spec of layout) {
    const name = names.physical(spec.logical)
    const meta = metadata.topics.find((t) => t.name === name)
    const resource = described.resources.find((r) => r.resourceName === name)
    const actual: ActualTopic = {
      partitions: meta?.partitions.length ?? 0,
      configs: Object.fromEntries(
        (resource?.configEntries ?? []).map((c) => [c.configName, c.configValue])
      ),
    }
    const problems = diffTopic(spec, actual)
    if (problems.length > 0) mismatches.push({ topic: name, problems })
  }
  return mismatches
}
