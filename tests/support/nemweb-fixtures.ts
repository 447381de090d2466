/**
 * Test helpers that serve REAL AEMO data in live NEMWeb packaging.
 *
 * No byte-exact live `PUBLIC_DISPATCHIS_*.zip` is available (see shared/fixtures/PROVENANCE.md),
 * so `buildDispatchIsZip` rebuilds one: every D row is a real row of the MMSDM archive fixtures
 * (April 2026: `PUBLIC_ARCHIVE#DISPATCHPRICE/REGIONSUM/INTERCONNECTORRES#FILE01#202604010000`;
 * January 2020, with real intervention runs: `PUBLIC_DVD_DISPATCHPRICE/REGIONSUM/INTERCONNECTORRES_202001010000`),
 * with the archive's own I rows. Only the packaging is rebuilt the way live files are written:
 * CRLF, quoted dates, a `C,NEMP.WORLD,DISPATCHIS,…` header, a correct `C,"END OF REPORT",n`
 * footer, a zip named `PUBLIC_DISPATCHIS_<YYYYMMDDHHmm>_<16 digits>.zip` holding a CSV of the same
 * base name. The 16-digit file id and the header's creation time are synthetic (derived from the
 * interval), and an INTERCONNECTORRES table rides along as in live files. The archive fixtures hold
 * regions NSW1 and SA1 only, so built files have those two regions.
 *
 * Fixtures are read from `<repo>/../shared/fixtures`, wherever the repo is cloned.
 */
import { readFileSync } from 'node:fs'
import { strToU8, zipSync } from 'fflate'
import { sha256Hex } from '@/lib'
import { parseMmsCsv, type MmsCsv } from '../../src/sources/aemo/csv'
import { formatMarketTime, NEM_UTC_OFFSET_MS } from '../../src/sources/aemo/market-time'
import { singleCsvEntry } from '../../src/sources/aemo/zip'

export const SHARED_FIXTURES = new URL('../../../shared/fixtures/', import.meta.url)

/** Fixture paths relative to `shared/fixtures/`. `%23` is literally in the file names (it stands for `#`). */
export const AEMO_FIXTURES = {
  liveScada: 'aemo/scada/PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.zip',
  scada202408: 'aemo/scada/PUBLIC_ARCHIVE%23DISPATCH_UNIT_SCADA%23FILE01%23202408010000.zip',
  scada202604: 'aemo/scada/PUBLIC_ARCHIVE%23DISPATCH_UNIT_SCADA%23FILE01%23202604010000.zip',
  price202001: 'aemo/dispatchis_mmsdm/PUBLIC_DVD_DISPATCHPRICE_202001010000.zip',
  regionsum202001: 'aemo/dispatchis_mmsdm/PUBLIC_DVD_DISPATCHREGIONSUM_202001010000.zip',
  interconnector202001:
    'aemo/dispatchis_mmsdm/PUBLIC_DVD_DISPATCHINTERCONNECTORRES_202001010000.zip',
  price202604: 'aemo/dispatchis_mmsdm/PUBLIC_ARCHIVE%23DISPATCHPRICE%23FILE01%23202604010000.zip',
  regionsum202604:
    'aemo/dispatchis_mmsdm/PUBLIC_ARCHIVE%23DISPATCHREGIONSUM%23FILE01%23202604010000.zip',
  interconnector202604:
    'aemo/dispatchis_mmsdm/PUBLIC_ARCHIVE%23DISPATCHINTERCONNECTORRES%23FILE01%23202604010000.zip',
  rooftop202604: 'aemo/rooftop/PUBLIC_ARCHIVE%23ROOFTOP_PV_ACTUAL%23FILE01%23202604010000.zip',
  dispatchIsListing: 'aemo/listings/nemweb_dirlisting.html',
  dispatchScadaListing: 'aemo/listings/nemweb_dispatch_scada_dirlisting.html',
} as const

const cache = new Map<string, Uint8Array>()

/** A fixture's bytes (cached). */
export function fixtureBytes(relative: string): Uint8Array {
  let bytes = cache.get(relative)
  if (bytes === undefined) {
    // The names contain a literal `%23`; a file URL would read it as an escaped `#`, so escape the `%`.
    bytes = new Uint8Array(readFileSync(new URL(relative.replaceAll('%', '%25'), SHARED_FIXTURES)))
    cache.set(relative, bytes)
  }
  return bytes
}

/** A fixture as the normalisers take it: file name (last path segment), bytes, sha256. */
export function fixtureFile(relative: string): { name: string; bytes: Uint8Array; sha256: string } {
  const bytes = fixtureBytes(relative)
  return { name: relative.slice(relative.lastIndexOf('/') + 1), bytes, sha256: sha256Hex(bytes) }
}

/** The CSV text inside a single-CSV fixture zip. */
export const fixtureCsvText = (relative: string): string =>
  new TextDecoder().decode(singleCsvEntry(fixtureBytes(relative)).bytes)

const parsedCache = new Map<string, MmsCsv>()
function archiveCsv(relative: string): MmsCsv {
  let csv = parsedCache.get(relative)
  if (csv === undefined) {
    csv = parseMmsCsv(singleCsvEntry(fixtureBytes(relative)).bytes, { strictFooter: false })
    parsedCache.set(relative, csv)
  }
  return csv
}

const MARKET_DATE = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/
// Live files quote dates (`"2021/09/02 12:55:00"`); the archive extracts do not.
const liveField = (f: string): string => (MARKET_DATE.test(f) ? `"${f}"` : f)

/** `2026-04-01T14:05:00Z` → `202604020005` (NEM time), the stamp in NEMWeb file names. */
export function compactMarketTime(intervalEnd: string): string {
  const ms = Date.parse(intervalEnd)
  if (!Number.isFinite(ms) || ms % 300_000 !== 0)
    throw new Error(`not a 5-minute interval end: ${intervalEnd}`)
  return formatMarketTime(ms).replace(/[/: ]/g, '').slice(0, 12)
}

/** A deterministic 16-digit file id (live ids are AEMO sequence numbers; this one is synthetic). */
const fileId = (intervalEnd: string): string =>
  String(Date.parse(intervalEnd) / 300_000).padStart(16, '0')

interface BuildSpec {
  readonly report: 'DISPATCHIS' | 'DISPATCHSCADA'
  readonly tables: readonly { readonly fixture: string; readonly table: string }[]
}

const SOURCES: Record<
  'dispatchis' | 'scada',
  readonly { from: string; to: string; spec: BuildSpec }[]
> = {
  dispatchis: [
    {
      from: '2020-01-01T00:05:00+10:00',
      to: '2020-02-01T00:00:00+10:00',
      spec: {
        report: 'DISPATCHIS',
        tables: [
          { fixture: AEMO_FIXTURES.price202001, table: 'DISPATCH.PRICE' },
          { fixture: AEMO_FIXTURES.interconnector202001, table: 'DISPATCH.INTERCONNECTORRES' },
          { fixture: AEMO_FIXTURES.regionsum202001, table: 'DISPATCH.REGIONSUM' },
        ],
      },
    },
    {
      from: '2026-04-01T00:05:00+10:00',
      to: '2026-05-01T00:00:00+10:00',
      spec: {
        report: 'DISPATCHIS',
        tables: [
          { fixture: AEMO_FIXTURES.price202604, table: 'DISPATCH.PRICE' },
          { fixture: AEMO_FIXTURES.interconnector202604, table: 'DISPATCH.INTERCONNECTORRES' },
          { fixture: AEMO_FIXTURES.regionsum202604, table: 'DISPATCH.REGIONSUM' },
        ],
      },
    },
  ],
  scada: [
    {
      from: '2024-08-01T00:05:00+10:00',
      to: '2024-09-01T00:00:00+10:00',
      spec: {
        report: 'DISPATCHSCADA',
        tables: [{ fixture: AEMO_FIXTURES.scada202408, table: 'DISPATCH.UNIT_SCADA' }],
      },
    },
    {
      from: '2026-04-01T00:05:00+10:00',
      to: '2026-05-01T00:00:00+10:00',
      spec: {
        report: 'DISPATCHSCADA',
        tables: [{ fixture: AEMO_FIXTURES.scada202604, table: 'DISPATCH.UNIT_SCADA' }],
      },
    },
  ],
}

/** The intervals (UTC ISO) the archive fixtures can build files for. */
export function buildableIntervals(kind: 'dispatchis' | 'scada'): { from: string; to: string }[] {
  return SOURCES[kind].map((s) => ({
    from: new Date(s.from).toISOString().replace('.000', ''),
    to: new Date(s.to).toISOString().replace('.000', ''),
  }))
}

function buildCsv(kind: 'dispatchis' | 'scada', intervalEnd: string): string {
  const ms = Date.parse(intervalEnd)
  const source = SOURCES[kind].find((s) => Date.parse(s.from) <= ms && ms <= Date.parse(s.to))
  if (source === undefined)
    throw new Error(`no ${kind} archive fixture covers ${intervalEnd}; see buildableIntervals()`)
  const settlement = formatMarketTime(ms)
  const body: string[] = []
  for (const { fixture, table } of source.spec.tables) {
    const [report, sub] = table.split('.')
    for (const t of archiveCsv(fixture).tables.filter(
      (x) => x.report === report && x.sub === sub
    )) {
      const dateAt = t.columns.indexOf('SETTLEMENTDATE') + 4
      const rows = t.rows.filter((r) => r.fields[dateAt] === settlement)
      if (rows.length === 0) continue
      body.push(['I', t.report, t.sub, t.version, ...t.columns].join(','))
      for (const r of rows) body.push(r.fields.map(liveField).join(','))
    }
  }
  if (body.length === 0)
    throw new Error(`the archive fixtures hold no rows for ${intervalEnd} (${settlement} NEM time)`)
  // Header as live files write it. NEMWeb publishes an interval's file at about its start (the SCADA
  // file for 12:55 says 12:50:16); the archive rows' LASTCHANGED can be later revisions, so the
  // interval start is used.
  const [day, time] = formatMarketTime(ms - 300_000).split(' ')
  const id = fileId(intervalEnd)
  const header = `C,NEMP.WORLD,${source.spec.report},AEMO,PUBLIC,${day},${time},${id},${source.spec.report},${id}`
  const lines = [header, ...body]
  lines.push(`C,"END OF REPORT",${lines.length + 1}`)
  return `${lines.join('\r\n')}\r\n`
}

export interface BuiltFile {
  /** `PUBLIC_DISPATCHIS_202604020005_0000000005924882.zip` */
  readonly name: string
  readonly csvName: string
  readonly csv: string
  readonly bytes: Uint8Array
  readonly sha256: string
  readonly intervalEnd: string
}

/** Zips members the way the builders do (deflate, fixed mtime, so the bytes are reproducible). */
export function zipMembers(
  members: Record<string, Uint8Array | string>,
  mtime = new Date('2026-01-01T00:00:00Z')
): Uint8Array {
  return zipSync(
    Object.fromEntries(
      Object.entries(members).map(([name, data]) => [
        name,
        typeof data === 'string' ? strToU8(data) : data,
      ])
    ),
    { level: 6, mtime }
  )
}

function buildZip(kind: 'dispatchis' | 'scada', intervalEnd: string): BuiltFile {
  const csv = buildCsv(kind, intervalEnd)
  const base = `PUBLIC_${kind === 'dispatchis' ? 'DISPATCHIS' : 'DISPATCHSCADA'}_${compactMarketTime(intervalEnd)}_${fileId(intervalEnd)}`
  const bytes = zipMembers({ [`${base}.CSV`]: csv }, new Date(Date.parse(intervalEnd) - 300_000))
  return {
    name: `${base}.zip`,
    csvName: `${base}.CSV`,
    csv,
    bytes,
    sha256: sha256Hex(bytes),
    intervalEnd,
  }
}

/** The live-format DispatchIS CSV for one interval (UTC ISO end), built from real archive rows. */
export const buildDispatchIsCsv = (intervalEnd: string): string =>
  buildCsv('dispatchis', intervalEnd)

/**
 * A live-format `PUBLIC_DISPATCHIS_*.zip` for one interval (UTC ISO end), from real archive rows:
 * April 2026 (NSW1, SA1) or January 2020 (NSW1, SA1; intervention runs on 2020-01-31 15:35–21:30 NEM time).
 */
export const buildDispatchIsZip = (intervalEnd: string): BuiltFile =>
  buildZip('dispatchis', intervalEnd)

/** A live-format `PUBLIC_DISPATCHSCADA_*.zip` (August 2024 or April 2026; DUIDs AGLHAL and HDWF2 only). */
export const buildDispatchScadaZip = (intervalEnd: string): BuiltFile =>
  buildZip('scada', intervalEnd)

/**
 * A NEMWeb Archive daily zip (a zip of the day's 5-minute zips), named like
 * `PUBLIC_DISPATCHIS_20260402.zip`.
 */
export function buildArchiveDayZip(
  prefix: 'PUBLIC_DISPATCHIS' | 'PUBLIC_DISPATCHSCADA',
  marketDate: string,
  files: readonly BuiltFile[]
): { name: string; bytes: Uint8Array } {
  return {
    name: `${prefix}_${marketDate.replaceAll('-', '')}.zip`,
    bytes: zipMembers(Object.fromEntries(files.map((f) => [f.name, f.bytes]))),
  }
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

/** IIS's listing date, in NEM time: `Thursday, September 2, 2021 12:50 PM` (hour space-padded to 2). */
function iisDate(utcIso: string): string {
  const t = new Date(Date.parse(utcIso) + NEM_UTC_OFFSET_MS)
  const h = t.getUTCHours()
  const hour12 = h % 12 === 0 ? 12 : h % 12
  const minute = String(t.getUTCMinutes()).padStart(2, '0')
  return `${WEEKDAYS[t.getUTCDay()]}, ${MONTHS[t.getUTCMonth()]} ${t.getUTCDate()}, ${t.getUTCFullYear()} ${String(hour12).padStart(2)}:${minute} ${h < 12 ? 'AM' : 'PM'}`
}

/**
 * An IIS directory listing page shaped like the raw NEMWeb one (`nemweb_dispatch_scada_dirlisting.html`):
 * root-relative hrefs, a parent link, a `DUPLICATE/` subdirectory, then one line per file with its
 * date (NEM time) and size. `dir` is the listed path, e.g. `/Reports/Current/DispatchIS_Reports/`.
 * A file's `modified` defaults to 5 minutes before its interval end, when NEMWeb publishes it.
 */
export function buildListingHtml(
  dir: string,
  files: readonly {
    name: string
    size?: number
    modified?: string
    intervalEnd?: string
    bytes?: Uint8Array
  }[]
): string {
  const parent = dir.replace(/[^/]+\/$/, '')
  const lines = [
    `${'Friday, May 12, 2017 10:56 AM'.padStart(38)}${' '.repeat(8)}&lt;dir&gt; <A HREF="${dir}DUPLICATE/">DUPLICATE</A><br>`,
  ]
  for (const f of files) {
    const modified =
      f.modified ??
      (f.intervalEnd
        ? new Date(Date.parse(f.intervalEnd) - 300_000).toISOString()
        : '2026-01-01T00:00:00Z')
    const size = f.size ?? f.bytes?.length ?? 0
    lines.push(
      `${iisDate(modified).padStart(38)}${String(size).padStart(13)} <A HREF="${dir}${f.name}">${f.name}</A><br>`
    )
  }
  return `<html><head><title>nemweb.com.au - ${dir}</title></head><body><H1>nemweb.com.au - ${dir}</H1><hr>\r\n\r\n<pre><A HREF="${parent}">[To Parent Directory]</A><br><br>${lines.join('')}</pre><hr></body></html>`
}

/*
 * Rooftop PV. The real data is the MMSDM month `PUBLIC_ARCHIVE#ROOFTOP_PV_ACTUAL#FILE01#202604010000`
 * (NSW1 and SA1 only; 2026-04-01..03 and 04-29..30, plus 05-01 00:00; both TYPEs for every half
 * hour). Live NEMWeb publishes one zip per TYPE and half hour,
 * `PUBLIC_ROOFTOP_PV_ACTUAL_<TYPE>_<YYYYMMDDHHmmss>_<16 digits>.zip`, whose time is the publication
 * batch, 30 minutes after the half hour it carries (`…_20240303200000_…` holds 19:30). The builders
 * below rebuild that packaging around the archive's own I row and D rows (CRLF, quoted dates, a
 * `C,NEMP.WORLD,ROOFTOP_PV_ACTUAL_<TYPE>,…` header, a correct footer); the file id is synthetic.
 */

export type RooftopType = 'MEASUREMENT' | 'SATELLITE'

const HALF_HOUR_MS = 1_800_000

/** A deterministic 16-digit file id per half hour and type (synthetic, like `fileId`). */
const rooftopFileId = (intervalEnd: string, type: RooftopType): string =>
  String((Date.parse(intervalEnd) / HALF_HOUR_MS) * 2 + (type === 'SATELLITE' ? 1 : 0)).padStart(
    16,
    '0'
  )

/** The live-format rooftop PV CSV of one TYPE for one half hour (UTC ISO end), from the archive month. */
export function buildRooftopPvCsv(type: RooftopType, intervalEnd: string): string {
  const ms = Date.parse(intervalEnd)
  if (!Number.isFinite(ms) || ms % HALF_HOUR_MS !== 0)
    throw new Error(`not a half-hour end: ${intervalEnd}`)
  const when = formatMarketTime(ms)
  const table = archiveCsv(AEMO_FIXTURES.rooftop202604).tables.find(
    (t) => t.report === 'ROOFTOP' && t.sub === 'ACTUAL'
  )!
  const at = (column: string) => table.columns.indexOf(column) + 4
  const rows = table.rows.filter(
    (r) => r.fields[at('INTERVAL_DATETIME')] === when && r.fields[at('TYPE')] === type
  )
  if (rows.length === 0)
    throw new Error(`the rooftop archive month holds no ${type} rows for ${intervalEnd} (${when})`)
  const [day, time] = formatMarketTime(ms + HALF_HOUR_MS).split(' ')
  const id = rooftopFileId(intervalEnd, type)
  const lines = [
    `C,NEMP.WORLD,ROOFTOP_PV_ACTUAL_${type},AEMO,PUBLIC,${day},${time},${id},DEMAND,${id}`,
    ['I', table.report, table.sub, table.version, ...table.columns].join(','),
    ...rows.map((r) => r.fields.map(liveField).join(',')),
  ]
  lines.push(`C,"END OF REPORT",${lines.length + 1}`)
  return `${lines.join('\r\n')}\r\n`
}

/** A live-format `PUBLIC_ROOFTOP_PV_ACTUAL_<TYPE>_*.zip` for one half hour, from the archive month. */
export function buildRooftopPvZip(type: RooftopType, intervalEnd: string): BuiltFile {
  const csv = buildRooftopPvCsv(type, intervalEnd)
  const published = toUtcIsoSeconds(Date.parse(intervalEnd) + HALF_HOUR_MS)
  const base = `PUBLIC_ROOFTOP_PV_ACTUAL_${type}_${compactMarketTime(published)}00_${rooftopFileId(intervalEnd, type)}`
  const bytes = zipMembers({ [`${base}.CSV`]: csv }, new Date(Date.parse(published)))
  return {
    name: `${base}.zip`,
    csvName: `${base}.CSV`,
    csv,
    bytes,
    sha256: sha256Hex(bytes),
    intervalEnd,
  }
}

const toUtcIsoSeconds = (ms: number) => new Date(ms).toISOString().replace('.000', '')

/**
 * A NEMWeb Archive rooftop PV zip: a zip of one TYPE's half-hourly zips, named for its first date
 * (`PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20260402.zip`; AEMO's are weekly).
 */
export function buildRooftopArchiveZip(
  type: RooftopType,
  firstDate: string,
  files: readonly BuiltFile[]
): { name: string; bytes: Uint8Array } {
  return {
    name: `PUBLIC_ROOFTOP_PV_ACTUAL_${type}_${firstDate.replaceAll('-', '')}.zip`,
    bytes: zipMembers(Object.fromEntries(files.map((f) => [f.name, f.bytes]))),
  }
}

/**
 * A live NEMWeb rooftop PV file with sub-regions, transcribed: the 13 lines of
 * `PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240303200000_0000000412707330.csv` as quoted verbatim in
 * the doc comment of ryukyi/au-energy-scraper `src/models/nem_current_rooftop_pv_actual.rs` (its
 * fixture; the zip itself is not among ours). Live column order (QI, TYPE, LASTCHANGED), quoted
 * dates, and QLD1/TAS1 beside their sub-regions. The quote lost the line endings: CRLF as in every
 * live file.
 */
export const LIVE_ROOFTOP_CSV_20240303 = `${[
  'C,NEMP.WORLD,ROOFTOP_PV_ACTUAL_MEASUREMENT,AEMO,PUBLIC,2024/03/03,20:00:03,0000000412707330,DEMAND,0000000412707330',
  'I,ROOFTOP,ACTUAL,2,INTERVAL_DATETIME,REGIONID,POWER,QI,TYPE,LASTCHANGED',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",NSW1,0,1,MEASUREMENT,"2024/03/03 19:49:13"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",QLD1,0,1,MEASUREMENT,"2024/03/03 19:49:13"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",QLDC,0,1,MEASUREMENT,"2024/03/03 19:49:13"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",QLDN,0,1,MEASUREMENT,"2024/03/03 19:49:14"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",QLDS,0,1,MEASUREMENT,"2024/03/03 19:49:14"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",SA1,6.617,1,MEASUREMENT,"2024/03/03 19:49:14"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",TAS1,0,1,MEASUREMENT,"2024/03/03 19:49:14"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",TASN,0,1,MEASUREMENT,"2024/03/03 19:49:14"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",TASS,0,1,MEASUREMENT,"2024/03/03 19:49:14"',
  'D,ROOFTOP,ACTUAL,2,"2024/03/03 19:30:00",VIC1,0,1,MEASUREMENT,"2024/03/03 19:49:14"',
  'C,"END OF REPORT",13',
].join('\r\n')}\r\n`
