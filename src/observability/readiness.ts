export interface CheckResult {
  readonly ok: boolean
  readonly detail?: string
  readonly [extra: string]: unknown
}

export interface ReadinessReport {
  readonly ready: boolean
  readonly checks: Record<string, CheckResult>
}

/**
 * Runs named checks; the process is ready when every check marked `required` passes. Informational
 * checks (source freshness: an edge node without internet still serves what it has) are reported only.
 */
export function createReadiness(
  checks: Record<string, { required: boolean; run: () => CheckResult | Promise<CheckResult> }>
): () => Promise<ReadinessReport> {
  return async () => {
    const results: Record<string, CheckResult> = {}
    let ready = true
    for (const [name, check] of Object.entries(checks)) {
      let result: CheckResult
      try {
        result = await check.run()
      } catch (error) {
        result = { ok: false, detail: error instanceof Error ? error.message : String(error) }
      }
      results[name] = { ...result, required: check.required }
      if (check.required && !result.ok) ready = false
    }
    return { ready, checks: results }
  }
}
