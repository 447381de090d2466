import { toUtcIso } from '@/lib'
import { NEM_UTC_OFFSET_MS, parseCompactMarketTime } from './market-time'
import { compareText } from './source-file'

/**
 * NEMWeb directory listings are IIS "directory browsing" pages, one `<pre>` of entries:
 *
 *      Monday, November 8, 2021  2:30 PM        18166 <A HREF="/Reports/…/PUBLIC_DISPATCHIS_202111081435_0000000352251582.zip">…</A><br>
 *
 * Hrefs are root-relative on the server; a page saved from a browser has them absolute. Both are
 * resolved against the listing URL. The date column is the server's clock in NEM time (UTC+10):
 * the file for the interval ending 14:35 is listed at 2:30 PM on 2021-11-08, when Sydney was on
 * daylight time, so the clock is AEST, not Sydney local time.
 */

/** The report families GridPulse polls, as they start NEMWeb file names. */
export type NemwebFilePrefix =
  | 'PUBLIC_DISPATCHIS'
  | 'PUBLIC_DISPATCHSCADA'
  | 'PUBLIC_ROOFTOP_PV_ACTUAL'

/**
 * File names per family: a Current file (group 1: the `YYYYMMDDHHmm` time in NEM time) and an
 * Archive zip (groups 1–3: its first market date). 5-minute reports are
 * `PUBLIC_DISPATCHIS_202111081435_0000000352251582.zip` and `PUBLIC_DISPATCHIS_20211108.zip` (a day).
 * Rooftop PV has two estimate types in one folder, a seconds field, and WEEKLY archives:
 * `PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20230902183000_0000000396168830.zip` (also `_SATELLITE_`)
 * and `PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240118.zip`.
 */
const NAME_PATTERNS: Record<NemwebFilePrefix, { current: RegExp; archive: RegExp }> = {
  PUBLIC_DISPATCHIS: {
    current: /^PUBLIC_DISPATCHIS_(\d{12})_\d{16}\.zip$/i,
    archive: /^PUBLIC_DISPATCHIS_(\d{4})(\d{2})(\d{2})\.zip$/i,
  },
  PUBLIC_DISPATCHSCADA: {
    current: /^PUBLIC_DISPATCHSCADA_(\d{12})_\d{16}\.zip$/i,
    archive: /^PUBLIC_DISPATCHSCADA_(\d{4})(\d{2})(\d{2})\.zip$/i,
  },
  PUBLIC_ROOFTOP_PV_ACTUAL: {
    current: /^PUBLIC_ROOFTOP_PV_ACTUAL_(?:MEASUREMENT|SATELLITE)_(\d{12})00_\d{16}\.zip$/i,
    archive: /^PUBLIC_ROOFTOP_PV_ACTUAL_(?:MEASUREMENT|SATELLITE)_(\d{4})(\d{2})(\d{2})\.zip$/i,
  },
}

export interface ListingEntry {
  readonly name: string
  /** Absolute URL of the file, resolved against the listing URL. */
  readonly href: string
  /**
   * The time in the file name (NEM time there), as ISO-8601 UTC: the end of the dispatch interval
   * of a 5-minute file. A rooftop PV file's name carries its publication batch instead, ~30 minutes
   * after the half hour inside it (`…_20240303200000_…` holds 19:30): its events take their
   * interval from the file's `INTERVAL_DATETIME`, never from the name.
   */
  readonly interval_end: string
  readonly size?: number
  /** The listing's modification time, ISO-8601 UTC (minute precision). */
  readonly modified?: string
}

export interface ArchiveListingEntry {
  readonly name: string
  readonly href: string
  /** The NEM market day in the name of an Archive zip (its first day), `YYYY-MM-DD`. */
  readonly market_date: string
  readonly size?: number
  readonly modified?: string
}

type RawEntry = Omit<ListingEntry, 'interval_end'>

const ANCHOR = /<a\s[^>]*?href\s*=\s*"([^"]*)"[^>]*>[^<]*<\/a\s*>/gi
// The text before an anchor: "Monday, November 8, 2021  2:30 PM        18166 " (or "&lt;dir&gt;").
const META =
  /([A-Za-z]+),\s+([A-Za-z]+)\s+(\d{1,2}),\s+(\d{4})\s+(\d{1,2}):(\d{2})\s+([AP]M)\s+(\d+|&lt;dir&gt;)\s*$/i
const MONTHS =
  'january february march april may june july august september october november december'.split(' ')

function modifiedIso(m: RegExpExecArray): string | undefined {
  const month = MONTHS.indexOf(m[2]!.toLowerCase())
  const day = Number(m[3])
  const year = Number(m[4])
  let hour = Number(m[5])
  const minute = Number(m[6])
  if (month === -1 || hour < 1 || hour > 12 || minute > 59) return undefined
  // 12-hour clock: 12:xx AM is 00:xx, 12:xx PM is 12:xx.
  hour = (hour % 12) + (m[7]!.toUpperCase() === 'PM' ? 12 : 0)
  const local = Date.UTC(year, month, day, hour, minute)
  if (new Date(local).getUTCDate() !== day) return undefined
  return toUtcIso(local - NEM_UTC_OFFSET_MS)
}

/** Every file link directly inside the listed directory (parent, subdirectories and elsewhere dropped). */
function listingEntries(html: string, listingUrl: string): RawEntry[] {
  const base = new URL(listingUrl)
  if (!base.pathname.endsWith('/')) base.pathname += '/'
  // IIS paths are case-insensitive (the SCADA page links /Reports/CURRENT/ for /Reports/Current/).
  const dir = base.pathname.toLowerCase()
  const entries: RawEntry[] = []
  let textFrom = 0
  for (const m of html.matchAll(ANCHOR)) {
    const before = html.slice(textFrom, m.index).replace(/<[^>]*>/g, ' ')
    textFrom = m.index + m[0].length
    let url: URL
    try {
      url = new URL(m[1]!.replaceAll('&amp;', '&'), base)
    } catch {
      continue
    }
    const slash = url.pathname.lastIndexOf('/')
    if (url.pathname.slice(0, slash + 1).toLowerCase() !== dir || slash === url.pathname.length - 1)
      continue
    let name: string
    try {
      name = decodeURIComponent(url.pathname.slice(slash + 1))
    } catch {
      continue
    }
    const meta = META.exec(before)
    const size = meta && /^\d+$/.test(meta[8]!) ? Number(meta[8]) : undefined
    const modified = meta ? modifiedIso(meta) : undefined
    entries.push({
      name,
      href: url.href,
      ...(size === undefined ? {} : { size }),
      ...(modified === undefined ? {} : { modified }),
    })
  }
  return entries
}

/** The time in a Current file's name (see `ListingEntry.interval_end`), or null when not such a name. */
export function currentFileTime(prefix: NemwebFilePrefix, name: string): string | null {
  const m = NAME_PATTERNS[prefix].current.exec(name)
  const ms = m === null ? null : parseCompactMarketTime(m[1]!)
  return ms === null ? null : toUtcIso(ms)
}

/**
 * The files of a NEMWeb `Reports/Current/…` listing whose names are those of `prefix` (e.g.
 * `<prefix>_YYYYMMDDHHmm_<16 digits>.zip`), sorted by the time in the name then name, each once.
 */
export function parseCurrentListing(
  html: string,
  listingUrl: string,
  prefix: NemwebFilePrefix
): ListingEntry[] {
  const seen = new Map<string, ListingEntry>()
  for (const entry of listingEntries(html, listingUrl)) {
    if (seen.has(entry.name)) continue
    const time = currentFileTime(prefix, entry.name)
    if (time === null) continue
    seen.set(entry.name, { ...entry, interval_end: time })
  }
  return [...seen.values()].sort(
    (a, b) => compareText(a.interval_end, b.interval_end) || compareText(a.name, b.name)
  )
}

/**
 * The zips of a NEMWeb `Reports/Archive/…` listing (`<prefix>_YYYYMMDD.zip`, each holding the
 * Current files of a day, or of a week from that date for rooftop PV), sorted by date then name,
 * each name once.
 */
export function parseArchiveListing(
  html: string,
  listingUrl: string,
  prefix: NemwebFilePrefix
): ArchiveListingEntry[] {
  const pattern = NAME_PATTERNS[prefix].archive
  const seen = new Map<string, ArchiveListingEntry>()
  for (const entry of listingEntries(html, listingUrl)) {
    const m = pattern.exec(entry.name)
    if (m === null || seen.has(entry.name)) continue
    if (parseCompactMarketTime(`${m[1]}${m[2]}${m[3]}0000`) === null) continue
    seen.set(entry.name, { ...entry, market_date: `${m[1]}-${m[2]}-${m[3]}` })
  }
  return [...seen.values()].sort(
    (a, b) => compareText(a.market_date, b.market_date) || compareText(a.name, b.name)
  )
}
