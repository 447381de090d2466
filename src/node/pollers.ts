import type { EventBus } from '@/bus'
import { type LoopRegistry, type Supervisor, supervise } from '@/lib'
import type { Logger, SourceRegistry } from '@/observability'
import {
  type CycleContext,
  type CycleResult,
  createForecastCycle,
  createNemwebCycle,
  createPoller,
  NEMWEB,
  type Poller,
  type Sink,
} from '@/sources'
import type { Config } from '../config'

type Cycle = (signal: AbortSignal, context: CycleContext) => Promise<CycleResult>

/** Scale-out: every node projects, but only the leader polls the sources. */
const leaderOnly =
  (bus: EventBus, cycle: Cycle): Cycle =>
  (signal, context) =>
    bus.isLeader()
      ? cycle(signal, context)
      : Promise.resolve({ events: 0, rejected: 0, skipped: true })

/** The pollers SOURCES enables, each with its status registered for `/ready` and `/metrics`. */
export function createPollers(
  config: Config['sources'],
  deps: {
    readonly bus: EventBus
    readonly sink: Sink
    readonly log: Logger
    readonly registry: SourceRegistry
    /** listed → fetched of each NEMWeb file (the stage latency histogram). */
    readonly onFetched?: (source: string, listedAt: number, fetchedAt: number) => void
  }
): { readonly source: string; readonly poller: Poller }[] {
  const { bus, sink, log, registry } = deps
  const pollers: { source: string; poller: Poller }[] = []
  if (config.enabled.has('openmeteo')) {
    const source = 'openmeteo.forecast'
    const status = registry.register(source, config.openMeteo.everyMs)
    const cycle = createForecastCycle({
      baseUrl: config.openMeteo.baseUrl,
      locations: config.openMeteo.locations,
      sink,
    })
    const poller = createPoller({
      status,
      everyMs: config.openMeteo.everyMs,
      outage: config.outage,
      log: log.child({ component: 'sources.openmeteo' }),
      cycle: leaderOnly(bus, cycle),
    })
    pollers.push({ source, poller })
  }
  // The NEMWeb reports each source name enables, and how often each is polled.
  const nemweb = [
    ...(config.enabled.has('aemo')
      ? (['dispatchis', 'scada'] as const).map((kind) => ({ kind, everyMs: config.aemo.everyMs }))
      : []),
    ...(config.enabled.has('rooftop')
      ? [{ kind: 'rooftop' as const, everyMs: config.aemo.rooftopEveryMs }]
      : []),
  ]
  for (const { kind, everyMs } of nemweb) {
    const source = NEMWEB[kind].source
    const status = registry.register(source, everyMs)
    const plog = log.child({ component: `sources.aemo.${kind}` })
    const cycle = createNemwebCycle({
      baseUrl: config.aemo.baseUrl,
      kind,
      sink,
      log: plog,
      initialLookbackMs: config.aemo.initialLookbackMs,
      onFetched: (listedAt, fetchedAt) => deps.onFetched?.(source, listedAt, fetchedAt),
    })
    const poller = createPoller({
      status,
      everyMs,
      outage: config.outage,
      log: plog,
      cycle: leaderOnly(bus, cycle),
    })
    pollers.push({ source, poller })
  }
  return pollers
}

/** Runs each poller under a supervisor: a poller handles its own failures, the supervisor what escapes it. */
export function supervisePollers(
  pollers: readonly { readonly source: string; readonly poller: Poller }[],
  deps: { readonly log: Logger; readonly loops: LoopRegistry }
): Supervisor[] {
  return pollers.map(({ source, poller }) =>
    supervise({
      name: `poller ${source}`,
      log: deps.log,
      registry: deps.loops,
      run: (signal, up) => {
        up()
        return poller.run(signal)
      },
    })
  )
}
