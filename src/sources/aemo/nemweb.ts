import {
  createDeadLetter,
  createEvent,
  type SourceFileEvent,
  type DeadLetter,
  type GridEvent,
  type ScadaReconciliationEvent,
  TOPICS,
} from '@/canonical'
import { DomainError, sha256Hex, toUtcIsoMs } from '@/lib'
import type { Logger } from '@/observability'
import { type HttpOptions, httpGet, shortUrl, statusError } from '../http'
import type { CycleContext, CycleResult, Sink } from '../poller'
import type { SourceRejection } from '../rejection'
import { DISPATCH_IS_TABLES, normalizeDispatchIsFiles } from './dispatch-is'
import { normalizeDispatchScada } from './dispatch-scada'
import { normalizeRooftopPv } from './rooftop-pv'
import { AemoSourceError } from './errors'
import {
  type ArchiveListingEntry,
  type ListingEntry,
  parseArchiveListing,
  parseCurrentListing,
} from './listing'
import { INTERCONNECTOR_TABLES, normalizeInterconnectors } from './interconnector'
import {
  checkContext,
  compareText,
  envelopeFor,
  type NormalizeContext,
  type ReadOptions,
  readSourceFile,
  type SourceFile,
} from './source-file'
import {
  ARCHIVE_DAY_ZIP_LIMITS,
  CURRENT_FILE_ZIP_LIMITS,
  looksLikeZip,
  singleCsvEntryAsync,
  unzipEntriesAsync,
  type ZipEntry,
  type ZipLimits,
} from './zip'

export type NemwebKind = 'dispatchis' | 'scada' | 'rooftop'

/** NEMWeb's layout for the reports GridPulse reads (paths as served by nemweb.com.au). */
export const NEMWEB = {
  dispatchis: {
    source: 'aemo.dispatchis',
    prefix: 'PUBLIC_DISPATCHIS',
    current: '/Reports/Current/DispatchIS_Reports/',
    archive: '/Reports/Archive/DispatchIS_Reports/',
    topic: TOPICS.prices,
  },
  scada: {
    source: 'aemo.dispatch_scada',
    prefix: 'PUBLIC_DISPATCHSCADA',
    current: '/Reports/Current/Dispatch_SCADA/',
    archive: '/Reports/Archive/Dispatch_SCADA/',
    topic: TOPICS.dispatch,
  },
  // Half-hourly, MEASUREMENT and SATELLITE files side by side; Current keeps ~14 days, the Archive
  // weekly zips of them.
  rooftop: {
    source: 'aemo.rooftop_pv',
    prefix: 'PUBLIC_ROOFTOP_PV_ACTUAL',
    current: '/Reports/Current/ROOFTOP_PV/ACTUAL/',
    archive: '/Reports/Archive/ROOFTOP_PV/ACTUAL/',
    topic: TOPICS.rooftop,
  },
} as const

/**
 * Hard caps per report kind, so a hostile or broken upstream can neither exhaust memory nor hold
 * the thread: the download is cut off while streaming once it passes `downloadBytes`, and the zip
 * is refused (or its inflation stopped) past `zip`. A 5-minute file is 16–19 kB (DispatchIS) or
 * ~3 kB (Dispatch_SCADA) on the wire; an IIS listing of Current (~580 files, 48 h) is ~130 kB.
 */
export const NEMWEB_CAPS = {
  listingBytes: 8 * 1024 * 1024,
  current: { downloadBytes: 4 * 1024 * 1024, zip: CURRENT_FILE_ZIP_LIMITS },
  /** A daily Archive zip (288 5-minute zips, ~5 MB for DispatchIS); each inner zip gets `current.zip`. */
  archiveDay: { downloadBytes: 128 * 1024 * 1024, zip: ARCHIVE_DAY_ZIP_LIMITS },
} as const

export interface FileOutcome {
  readonly events: readonly GridEvent[]
  readonly deadLetters: readonly DeadLetter[]
  /** Newest interval the file carried, epoch ms. */
  readonly lastDataAt?: number
  /** The file as downloaded (a Current file's poll): its lineage record, published first. */
  readonly file?: SourceFileEvent
}

type Rejected = Pick<SourceRejection, 'code' | 'reason' | 'row' | 'raw' | 'table' | 'topic'>

/** A dead letter for a whole file or one of its rows; the id is stable across re-ingestion. */
function deadLetterFor(
  kind: NemwebKind,
  file: Pick<SourceFile, 'name' | 'sha256'>,
  ctx: NormalizeContext,
  r: Rejected
): DeadLetter {
  const spec = NEMWEB[kind]
  return createDeadLetter({
    origin: 'nemweb',
    // A row read for two streams (DISPATCH.PRICE: energy and FCAS) may be rejected by both: the
    // topic keeps their ids apart (and leaves the ids of single-stream rejects as they were).
    identity: `${spec.source}|${file.sha256}|${r.row ?? 'file'}|${r.code}${r.topic ? `|${r.topic}` : ''}`,
    // Rejected interconnector rows belong with the flows, FCAS values with the FCAS prices, the
    // rest of the file with its main topic.
    topic:
      r.topic ??
      (r.table?.startsWith('DISPATCH.INTERCONNECTORRES') ? TOPICS.interconnectors : spec.topic),
    reason: r.table ? `${r.table}: ${r.reason}` : r.reason,
    code: r.code,
    correlation_id: ctx.correlationId,
    source: spec.source,
    source_file: file.name,
    row: r.row,
    raw: r.raw,
    failed_at: toUtcIsoMs(Date.parse(ctx.ingestedAt)),
  })
}

/**
 * Normalises one downloaded NEMWeb file into events and dead letters. Never throws on content:
 * a corrupt zip, a truncated CSV or a missing table becomes one dead letter for the whole file;
 * a bad row becomes a dead letter for that row and the rest of the file is still ingested.
 */
export function processFile(
  kind: NemwebKind,
  file: SourceFile,
  ctx: NormalizeContext,
  options: ReadOptions = {}
): FileOutcome {
  const spec = NEMWEB[kind]
  const deadLetter = (r: Rejected) => deadLetterFor(kind, file, ctx, r)
  try {
    if (kind === 'dispatchis') {
      // One parse of the file serves prices (PRICE + REGIONSUM), FCAS prices (PRICE) and flows
      // (INTERCONNECTORRES).
      checkContext(ctx)
      const parsed = readSourceFile(
        file,
        [...DISPATCH_IS_TABLES, ...INTERCONNECTOR_TABLES],
        options
      )
      const prices = normalizeDispatchIsFiles([parsed], ctx)
      const flows = normalizeInterconnectors(parsed, ctx)
      return {
        events: [...prices.events, ...prices.fcas, ...flows.events],
        deadLetters: [...prices.rejects, ...flows.rejects].map(deadLetter),
        lastDataAt: newest(prices.events),
      }
    }
    if (kind === 'rooftop') {
      const rooftop = normalizeRooftopPv(file, ctx, options)
      return {
        events: rooftop.events,
        deadLetters: rooftop.rejects.map(deadLetter),
        lastDataAt: newest(rooftop.events),
      }
    }
    const result = normalizeDispatchScada(file, ctx, options)
    const envelope = envelopeFor(spec.source, file, ctx)
    const reconciliation = result.reconciliation.map(
      (r): ScadaReconciliationEvent =>
        createEvent('ScadaReconciliationEvent', envelope, {
          interval_end: r.interval_end,
          total_mw: r.total_w / 1e6,
          generation_mw: (r.mapped_w - r.load_w) / 1e6,
          load_mw: r.load_w / 1e6,
          unmapped_mw: r.unmapped_w / 1e6,
          unit_count:
            result.events
              .filter((e) => e.interval_end === r.interval_end)
              .reduce((n, e) => n + e.unit_count, 0) + r.unmapped_duids.length,
          unmapped_units: r.unmapped_duids.map((u) => ({ duid: u.duid, value_mw: u.value_mw })),
        })
    )
    return {
      events: [...result.events, ...reconciliation],
      deadLetters: result.rejects.map(deadLetter),
      lastDataAt: newest(result.events),
    }
  } catch (error) {
    if (!(error instanceof AemoSourceError)) throw error
    return wholeFileRejected(kind, file, ctx, error)
  }
}

/** One dead letter for a file that could not be read at all. */
function wholeFileRejected(
  kind: NemwebKind,
  file: SourceFile,
  ctx: NormalizeContext,
  error: AemoSourceError
): FileOutcome {
  // Binary input survives the DLQ as base64 (the DLQ payload is text). The first 64 KiB show the
  // headers and the start of the data; the whole file stays on NEMWeb. A hostile file must not put
  // a megabyte into the log, the projection and every DLQ listing that includes it.
  const raw =
    typeof file.bytes === 'string'
      ? file.bytes
      : `base64:${Buffer.from(file.bytes.subarray(0, 64 * 1024)).toString('base64')}`
  return {
    events: [],
    deadLetters: [
      deadLetterFor(kind, file, ctx, { code: error.code, reason: error.message, row: null, raw }),
    ],
  }
}

/**
 * `processFile` for a file as downloaded: the zip is inflated on zlib's worker pool, off the event
 * loop (so `/health` and the API keep answering), within `limits`, before the CSV is parsed.
 */
export async function processDownloadedFile(
  kind: NemwebKind,
  file: SourceFile & { readonly bytes: Uint8Array },
  ctx: NormalizeContext,
  limits: ZipLimits = NEMWEB_CAPS.current.zip
): Promise<FileOutcome> {
  // Not a zip (an HTML error page, a bare CSV): left to the CSV reader, which says what is wrong.
  if (!looksLikeZip(file.bytes)) return processFile(kind, file, ctx)
  let inflatedCsv: Uint8Array
  try {
    inflatedCsv = (await singleCsvEntryAsync(file.bytes, limits)).bytes
  } catch (error) {
    if (!(error instanceof AemoSourceError)) throw error
    return wholeFileRejected(kind, file, ctx, error)
  }
  return processFile(kind, { ...file, inflatedCsv }, ctx)
}

function newest(events: readonly { interval_end: string }[]): number | undefined {
  let max = 0
  for (const e of events) max = Math.max(max, Date.parse(e.interval_end))
  return max || undefined
}

/** Commits one file: dead letters, then the events with the source checkpoint in one transaction. */
async function commit(sink: Sink, source: string, cursor: string, outcome: FileOutcome) {
  if (outcome.deadLetters.length > 0) await sink.deadLetter(outcome.deadLetters)
  const events = outcome.file ? [outcome.file, ...outcome.events] : outcome.events
  await sink.publish(events, { checkpoint: { source, cursor } })
}

/** The lineage record of a file whose download has just ended. */
function fileRecord(
  kind: NemwebKind,
  url: string,
  file: { name: string; bytes: Uint8Array; sha256: string },
  ctx: NormalizeContext,
  listedAt: string | undefined
): SourceFileEvent {
  return createEvent('SourceFileEvent', envelopeFor(NEMWEB[kind].source, file, ctx), {
    url,
    size_bytes: file.bytes.byteLength,
    listed_at: listedAt ?? null,
    fetched_at: toUtcIsoMs(Date.now()),
  })
}

/** The download is retried when the content looks cut off (a truncated transfer), then dead-lettered. */
async function fetchAndProcess(
  kind: NemwebKind,
  url: string,
  { name, modified: listed }: Pick<ListingEntry, 'name' | 'modified'>,
  ctx: NormalizeContext,
  http: HttpOptions & { signal?: AbortSignal },
  attempts = 3
): Promise<FileOutcome | 'gone'> {
  for (let attempt = 1; ; attempt++) {
    let response: Awaited<ReturnType<typeof httpGet>>
    try {
      response = await httpGet(url, { maxBytes: NEMWEB_CAPS.current.downloadBytes, ...http })
    } catch (error) {
      // A file too large to be a NEMWeb file is rejected (and skipped), not retried forever.
      if (!(error instanceof DomainError) || error.code !== 'upstream_too_large') throw error
      const reason = error.message
      return {
        events: [],
        deadLetters: [
          deadLetterFor(kind, { name, sha256: sha256Hex(url) }, ctx, {
            code: 'file_too_large',
            reason,
            row: null,
            raw: url,
          }),
        ],
      }
    }
    // Current keeps ~48 h: a file listed a moment ago can rotate out before we fetch it.
    if (response.status === 404) return 'gone'
    // A file the server refuses for good (403, 410, …) is dead-lettered, not retried until it
    // rotates out of Current; 5xx and 408/429 are transient and retried on the next cycle.
    if (
      response.status >= 400 &&
      response.status < 500 &&
      response.status !== 408 &&
      response.status !== 429
    ) {
      const reason = `GET ${name}: HTTP ${response.status}`
      const id = { name, sha256: sha256Hex(`${url}|${response.status}`) }
      return {
        events: [],
        deadLetters: [
          deadLetterFor(kind, id, ctx, {
            code: `http_${response.status}`,
            reason,
            row: null,
            raw: url,
          }),
        ],
      }
    }
    if (response.status !== 200) throw statusError(`GET ${name}`, response.status)
    const file = { name, bytes: response.body, sha256: sha256Hex(response.body) }
    const record = fileRecord(kind, url, file, ctx, listed)
    const outcome = { ...(await processDownloadedFile(kind, file, ctx)), file: record }
    const retryable =
      outcome.events.length === 0 && outcome.deadLetters.some((d) => RETRYABLE_CODES.has(d.code))
    if (!retryable || attempt >= attempts) return outcome
  }
}
const RETRYABLE_CODES = new Set([
  'csv_footer_missing',
  'csv_line_count_mismatch',
  'zip_truncated',
  'zip_corrupt',
])

/** Only the path of a listed href is used: saved listings carry absolute nemweb.com.au URLs. */
const onBase = (baseUrl: string, href: string) =>
  new URL(new URL(href, baseUrl).pathname, baseUrl).toString()

/**
 * One poll of a NEMWeb "Current" folder. The listing is fetched conditionally (ETag /
 * Last-Modified), new files (names after the persisted cursor, which sort by interval) are
 * downloaded once each, in order, and each is committed with the cursor in the same transaction:
 * a restart neither skips nor double-counts a file, and after downtime every file still in
 * Current (about 48 hours) is caught up. A fresh node starts `initialLookbackMs` back.
 */
export function createNemwebCycle(options: {
  readonly baseUrl: string
  readonly kind: NemwebKind
  readonly sink: Sink
  readonly log: Logger
  readonly http?: HttpOptions
  readonly now?: () => number
  readonly newId?: () => string
  readonly initialLookbackMs?: number
  readonly maxFilesPerCycle?: number
  /** A file downloaded: when the listing dated it and when its download ended (epoch ms). */
  readonly onFetched?: (listedAt: number, fetchedAt: number) => void
}) {
  const spec = NEMWEB[options.kind]
  const now = options.now ?? Date.now
  const newId = options.newId ?? (() => crypto.randomUUID())
  const listingUrl = new URL(spec.current, options.baseUrl).toString()
  const lookback = options.initialLookbackMs ?? 60 * 60 * 1000
  const maxFiles = options.maxFilesPerCycle ?? 50
  let validators: Record<string, string> = {}

  return async (signal: AbortSignal, context?: CycleContext): Promise<CycleResult> => {
    // While the source is down each poll is one probe: the poller's backoff spaces them out.
    const listing = await httpGet(listingUrl, {
      log: options.log,
      maxBytes: NEMWEB_CAPS.listingBytes,
      ...options.http,
      ...(context?.probe ? { attempts: 1 } : {}),
      signal,
      headers: validators,
    })
    if (listing.status === 304) return { events: 0, rejected: 0 }
    if (listing.status !== 200) throw statusError(`listing ${shortUrl(listingUrl)}`, listing.status)
    const entries = parseCurrentListing(
      new TextDecoder().decode(listing.body),
      listingUrl,
      spec.prefix
    )
    const pending = await pendingFiles(options.kind, options.sink, entries, now() - lookback)
    const batch = pending.slice(0, maxFiles)
    let events = 0
    let rejected = 0
    let lastDataAt: number | undefined
    for (const entry of batch) {
      if (signal.aborted) break
      const ctx = { correlationId: newId(), ingestedAt: toUtcIsoMs(now()) }
      const url = onBase(options.baseUrl, entry.href)
      const http = { log: options.log, ...options.http, signal }
      const outcome = await fetchAndProcess(options.kind, url, entry, ctx, http)
      // The listing's time has minute precision: the stage is seconds to minutes long anyway.
      if (outcome !== 'gone' && entry.modified)
        options.onFetched?.(Date.parse(entry.modified), now())
      const checkpoint = checkpointFor(options.kind, entry.name)
      await publishFile(options.sink, options.log, checkpoint, entry.name, outcome)
      if (outcome === 'gone') continue
      events += outcome.events.length
      rejected += outcome.deadLetters.length
      if (outcome.lastDataAt) lastDataAt = Math.max(lastDataAt ?? 0, outcome.lastDataAt)
    }
    const more = pending.length > batch.length
    // Remember the listing's validators only once everything it listed is in: otherwise a 304
    // would hide the files still pending.
    if (!more && !signal.aborted) validators = validatorsOf(listing.headers)
    return { events, rejected, lastItem: batch.at(-1)?.name, lastDataAt, more }
  }
}

/**
 * The checkpoint a Current file's cursor lives under: the source's own. Names sort by interval
 * within one report, so one cursor per report suffices — except for rooftop PV, whose MEASUREMENT
 * and SATELLITE files of a half hour carry the same time and can appear in either order (a late
 * MEASUREMENT after its SATELLITE): each estimate type keeps a cursor of its own.
 */
export function checkpointFor(kind: NemwebKind, name: string): string {
  const source = NEMWEB[kind].source
  if (kind !== 'rooftop') return source
  return `${source}:${/_SATELLITE_/i.test(name) ? 'satellite' : 'measurement'}`
}

/**
 * The listed files not ingested yet, in listing order (by the time in the name, then the name):
 * those after their checkpoint's cursor (the last file committed), or on a fresh node (no cursor)
 * those whose name's time is at or after `since`.
 */
async function pendingFiles(
  kind: NemwebKind,
  sink: Sink,
  entries: readonly ListingEntry[],
  since: number
): Promise<ListingEntry[]> {
  const cursors = new Map<string, string | undefined>()
  for (const checkpoint of new Set(entries.map((e) => checkpointFor(kind, e.name))))
    cursors.set(checkpoint, await sink.readSourceCheckpoint(checkpoint))
  return entries.filter((e) => {
    const cursor = cursors.get(checkpointFor(kind, e.name))
    return cursor ? e.name > cursor : Date.parse(e.interval_end) >= since
  })
}

/**
 * Commits one fetched file with the cursor and logs what it sent to the DLQ. A file that rotated
 * out of Current before its download only moves the cursor past it.
 */
async function publishFile(
  sink: Sink,
  log: Logger,
  source: string,
  name: string,
  outcome: FileOutcome | 'gone'
): Promise<void> {
  if (outcome === 'gone') {
    log.warn(
      { file: name },
      'file rotated out of Current before download; the gap report will show it'
    )
    await sink.publish([], { checkpoint: { source, cursor: name } })
    return
  }
  await commit(sink, source, name, outcome)
  if (outcome.deadLetters.length > 0) {
    log.warn(
      {
        file: name,
        rejected: outcome.deadLetters.length,
        codes: [...new Set(outcome.deadLetters.map((d) => d.code))],
      },
      'input rejected to the DLQ'
    )
  }
}

/** The conditional-request headers that ask for the listing only when it has changed. */
function validatorsOf(headers: Headers): Record<string, string> {
  const validators: Record<string, string> = {}
  const etag = headers.get('etag')
  const lastModified = headers.get('last-modified')
  if (etag) validators['If-None-Match'] = etag
  if (lastModified) validators['If-Modified-Since'] = lastModified
  return validators
}

interface BackfillOptions {
  readonly baseUrl: string
  readonly kind: NemwebKind
  readonly from: string
  readonly to: string
  readonly sink: Sink
  readonly progress: (line: string) => void
  readonly http?: HttpOptions
  readonly signal?: AbortSignal
  readonly now?: () => number
  readonly newId?: () => string
}

interface BackfillTotals {
  /** Archive zips completed: one per market date, or per week and estimate type for rooftop PV. */
  days: number
  files: number
  events: number
  rejected: number
  missing: string[]
}

/** One backfill run: its options, the report's source name, a context per file, the running totals. */
interface Backfill {
  readonly options: BackfillOptions
  readonly source: string
  readonly newCtx: () => NormalizeContext
  readonly totals: BackfillTotals
}

/**
 * One Archive zip of a backfill — a market date's, or a rooftop PV week's — and its own checkpoint.
 * `entry` is absent when the listing has no zip for `label` (a market date): reported missing.
 */
interface ArchiveTarget {
  readonly label: string
  readonly entry?: ArchiveListingEntry
  /** Checkpoint source of this zip; its cursor is the last inner file committed, then `COMPLETE`. */
  readonly checkpoint: string
}

/**
 * `gridpulse backfill`: ingests NEMWeb Archive zips (zips of Current files: a day's for the 5-minute
 * reports, a week's per estimate type for rooftop PV) for market dates `from`..`to` inclusive, in
 * order, through the same normalisation and the same log. Resumable: each zip keeps its own cursor
 * (the last inner file committed), so an interrupted run continues where it stopped and a finished
 * zip is skipped.
 */
export async function runBackfill(options: BackfillOptions): Promise<BackfillTotals> {
  const spec = NEMWEB[options.kind]
  const now = options.now ?? Date.now
  const newId = options.newId ?? (() => crypto.randomUUID())
  const run: Backfill = {
    options,
    source: spec.source,
    newCtx: () => ({ correlationId: newId(), ingestedAt: toUtcIsoMs(now()) }),
    totals: { days: 0, files: 0, events: 0, rejected: 0, missing: [] },
  }
  const archiveUrl = new URL(spec.archive, options.baseUrl).toString()
  const listing = await httpGet(archiveUrl, { ...options.http, signal: options.signal })
  if (listing.status !== 200)
    throw statusError(`archive listing ${shortUrl(archiveUrl)}`, listing.status)
  const entries = parseArchiveListing(
    new TextDecoder().decode(listing.body),
    archiveUrl,
    spec.prefix
  )
  const targets =
    options.kind === 'rooftop'
      ? weeklyTargets(run.source, entries, options.from, options.to)
      : dailyTargets(run.source, entries, options.from, options.to)
  for (const target of targets) {
    if (options.signal?.aborted) break
    await backfillArchive(run, target)
  }
  return run.totals
}

/** The 5-minute reports: one zip per market date, `<prefix>_YYYYMMDD.zip`. */
function dailyTargets(
  source: string,
  entries: readonly ArchiveListingEntry[],
  from: string,
  to: string
): ArchiveTarget[] {
  const byDay = new Map(entries.map((e) => [e.market_date, e]))
  const targets: ArchiveTarget[] = []
  for (let day = from; day <= to; day = nextDay(day))
    targets.push({ label: day, entry: byDay.get(day), checkpoint: `${source}:archive:${day}` })
  return targets
}

/**
 * Rooftop PV: AEMO archives each estimate type as weekly zips (`…_MEASUREMENT_20240118.zip` holds
 * the files named from 2024-01-18 00:00 for seven days). A zip covers its date up to the next zip of
 * its type (the newest: seven days); every zip overlapping `from`..`to` is ingested whole (the
 * event ids make the overlap harmless). Dates no zip covers are reported missing.
 */
function weeklyTargets(
  source: string,
  entries: readonly ArchiveListingEntry[],
  from: string,
  to: string
): ArchiveTarget[] {
  const targets: ArchiveTarget[] = []
  const covered = new Set<string>()
  for (const type of ['MEASUREMENT', 'SATELLITE']) {
    const ofType = entries.filter((e) => e.name.toUpperCase().includes(`_${type}_`))
    ofType.forEach((entry, i) => {
      const until = ofType[i + 1]?.market_date ?? addDays(entry.market_date, 7)
      if (entry.market_date > to || until <= from) return
      targets.push({ label: entry.name, entry, checkpoint: `${source}:archive:${entry.name}` })
      for (let d = entry.market_date; d < until; d = nextDay(d)) covered.add(d)
    })
  }
  targets.sort((a, b) => compareText(a.entry!.market_date, b.entry!.market_date))
  for (let day = from; day <= to; day = nextDay(day))
    if (!covered.has(day)) targets.push({ label: day, checkpoint: `${source}:archive:${day}` })
  return targets
}

/** One Archive zip: skipped when complete, else its inner files after the zip's cursor. */
async function backfillArchive(run: Backfill, target: ArchiveTarget): Promise<void> {
  const { options, totals } = run
  const { label, entry, checkpoint } = target
  const done = await options.sink.readSourceCheckpoint(checkpoint)
  if (done === COMPLETE) {
    options.progress(`${options.kind} ${label}: already ingested, skipped`)
    return
  }
  if (!entry) {
    totals.missing.push(label)
    options.progress(`${options.kind} ${label}: not in the archive listing`)
    return
  }
  const members = await downloadArchive(run, { label, entry, checkpoint })
  if (members === null) return
  let index = 0
  for (const member of members) {
    index++
    if (options.signal?.aborted) break
    if (done && member.name <= done) continue
    const outcome = await processDownloadedFile(
      options.kind,
      { name: member.name, bytes: member.bytes, sha256: sha256Hex(member.bytes) },
      run.newCtx()
    )
    await commit(options.sink, checkpoint, member.name, outcome)
    totals.files++
    totals.events += outcome.events.length
    totals.rejected += outcome.deadLetters.length
    options.progress(
      `${options.kind} ${label}: ${index}/${members.length} files, ${totals.events} events, ${totals.rejected} rejected`
    )
  }
  if (options.signal?.aborted) return
  await options.sink.publish([], { checkpoint: { source: checkpoint, cursor: COMPLETE } })
  totals.days++
}

/**
 * The zip's inner Current zips in name order, or null when the zip was rejected. Inner zips are
 * opened one by one by processFile later, so one corrupt member is one dead letter.
 */
async function downloadArchive(
  run: Backfill,
  target: ArchiveTarget & { readonly entry: ArchiveListingEntry }
): Promise<ZipEntry[] | null> {
  const { options } = run
  const url = onBase(options.baseUrl, target.entry.href)
  let response: Awaited<ReturnType<typeof httpGet>>
  try {
    // A daily archive zip is megabytes: allow it more time and size than a 5-minute file.
    response = await httpGet(url, {
      timeoutMs: 300_000,
      maxBytes: NEMWEB_CAPS.archiveDay.downloadBytes,
      ...options.http,
      signal: options.signal,
    })
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'upstream_too_large') throw error
    await rejectArchive(run, target, 'file_too_large', error.message, url, sha256Hex(url))
    return null
  }
  if (response.status !== 200) throw statusError(`GET ${target.entry.name}`, response.status)
  try {
    return (await unzipEntriesAsync(response.body, NEMWEB_CAPS.archiveDay.zip))
      .filter((m) => /\.zip$/i.test(m.name))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
  } catch (error) {
    if (!(error instanceof AemoSourceError) || error.retryable) throw error
    const raw = `base64:${Buffer.from(response.body.subarray(0, 64 * 1024)).toString('base64')}`
    await rejectArchive(run, target, error.code, error.message, raw, sha256Hex(response.body))
    return null
  }
}

/**
 * An Archive zip that can never be read (too large, a size or CRC lie) is one dead letter and is
 * marked done: rerunning would fetch the same bytes and fail the same way. A cut-off download
 * throws instead, and a rerun fetches it again.
 */
async function rejectArchive(
  run: Backfill,
  { label, entry, checkpoint }: ArchiveTarget & { readonly entry: ArchiveListingEntry },
  code: string,
  reason: string,
  raw: string,
  sha256: string
): Promise<void> {
  const { options } = run
  const ctx = run.newCtx()
  await options.sink.deadLetter([
    deadLetterFor(options.kind, { name: entry.name, sha256 }, ctx, {
      code,
      reason,
      row: null,
      raw,
    }),
  ])
  await options.sink.publish([], { checkpoint: { source: checkpoint, cursor: COMPLETE } })
  run.totals.rejected++
  options.progress(`${options.kind} ${label}: ${entry.name} rejected (${code}): ${reason}`)
}

// Sorts after every file name, so "done" also means "skip every member".
const COMPLETE = '~complete'

const addDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
const nextDay = (day: string) => addDays(day, 1)
