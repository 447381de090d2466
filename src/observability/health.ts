/**
 * Freshness of each upstream source, shared by the pollers (writers) and `/ready` + `/api/v1/sources`
 * (readers). Framework-free on purpose.
 */
export interface SourceStatus {
  readonly source: string
  lastAttemptAt: number | null
  lastSuccessAt: number | null
  lastError: string | null
  consecutiveFailures: number
  /** Newest upstream item (file name, response time) ingested. */
  lastItem: string | null
  /** Newest interval / observation time ingested, epoch ms. */
  lastDataAt: number | null
  /** How often the source is expected to succeed, ms; freshness is judged against it. */
  expectedEveryMs: number
}

export interface SourceRegistry {
  register(source: string, expectedEveryMs: number): SourceStatus
  list(): readonly SourceStatus[]
}

export function createSourceRegistry(): SourceRegistry {
  const sources = new Map<string, SourceStatus>()
  return {
    register(source, expectedEveryMs) {
      const status: SourceStatus = {
        source,
        lastAttemptAt: null,
        lastSuccessAt: null,
        lastError: null,
        consecutiveFailures: 0,
        lastItem: null,
        lastDataAt: null,
        expectedEveryMs,
      }
      sources.set(source, status)
      return status
    },
    list: () => [...sources.values()],
  }
}
