/**
 * AEMO NEMWeb: pure parsing and normalisation (no I/O). The poller fetches listings and files and
 * hands the bytes here; everything returned is canonical events, rejections and typed errors.
 */

/**
 * Normalises one DispatchIS file (a `PUBLIC_DISPATCHIS_*.zip` or its CSV) into `RegionPriceEvent`s:
 * `DISPATCH.PRICE` RRP and price flags (always the INTERVENTION=0 pricing run) joined with
 * `DISPATCH.REGIONSUM` demand, available generation, net interchange, semi-scheduled solar and wind
 * and battery (BDU) figures (from the INTERVENTION=1 run when one exists); and into
 * `RegionFcasPriceEvent`s (`.fcas`): one per region, interval and FCAS service the file's PRICE
 * version carries, from the pricing run. Live files are checked against their footer by default;
 * bad rows become `rejects`.
 *
 * @example normalizeDispatchIs({ name, bytes: zip, sha256 }, { correlationId, ingestedAt }).events
 */
export { normalizeDispatchIs } from './dispatch-is'

/**
 * The DispatchIS join over tables already read from one or several files (MMSDM archives ship
 * PRICE and REGIONSUM as separate monthly files); read each with `readSourceFile(file,
 * DISPATCH_IS_TABLES, { strictFooter: false })`. Events are sorted and independent of row order.
 */
export {
  normalizeDispatchIsFiles,
  DISPATCH_IS_TABLES,
  type DispatchIsResult,
  type NormalizeResult,
} from './dispatch-is'

/**
 * Normalises one Dispatch_SCADA file into `MarketDispatchEvent`s per (interval, region, fuel type),
 * with a per-interval reconciliation in integer watts in which mapped + unmapped = total exactly.
 * Scheduled loads are reported as negative generation; batteries split by sign into
 * `battery_discharging` / `battery_charging`.
 */
export {
  normalizeDispatchScada,
  DISPATCH_SCADA_TABLES,
  type DispatchScadaOptions,
  type DispatchScadaResult,
  type ScadaReconciliation,
} from './dispatch-scada'

/**
 * Normalises one rooftop PV file (`ROOFTOP.ACTUAL`: live `PUBLIC_ROOFTOP_PV_ACTUAL_*`, weekly
 * Archive member or MMSDM month) into `RooftopPvEvent`s per (region, half hour, estimate type);
 * sub-regions are a breakdown of their region, summed only when the region's own row is absent.
 */
export { normalizeRooftopPv, ROOFTOP_PV_TABLES } from './rooftop-pv'

/**
 * Reads an upstream file (zip or CSV) into MMS tables, keeping only the listed `REPORT.SUB`
 * tables; also the types shared by the normalisers (`SourceFile`, `NormalizeContext`).
 */
export {
  readSourceFile,
  type NormalizeContext,
  type ParsedSourceFile,
  type ReadOptions,
  type SourceFile,
} from './source-file'

/**
 * Parser for AEMO's MMS CSV (C/I/D rows, tables keyed by report, sub-report and version, columns
 * found by name). With `strictFooter` a missing or wrong `C,"END OF REPORT",n` throws, so a
 * truncated live file is never half ingested.
 */
export {
  parseMmsCsv,
  columnIndex,
  findTables,
  type MmsCsv,
  type MmsCsvOptions,
  type MmsRow,
  type MmsTable,
} from './csv'

/**
 * Zip reading with limits checked on declared sizes before inflation, zlib inflation that
 * stops at the declared size, CRC-32 verification, async variants that inflate off the event loop,
 * and NEMWeb Archive daily zips (a zip of 5-minute zips) via `unzipNested`.
 */
export {
  unzipEntries,
  unzipEntriesAsync,
  unzipNested,
  singleCsvEntry,
  singleCsvEntryAsync,
  ARCHIVE_DAY_ZIP_LIMITS,
  CURRENT_FILE_ZIP_LIMITS,
  DEFAULT_ZIP_LIMITS,
  type NestedZipMember,
  type ZipEntry,
  type ZipLimits,
} from './zip'

/**
 * NEM market time (UTC+10 all year, no daylight saving): `2021/09/02 12:55:00` →
 * `2021-09-02T02:55:00Z`. `SETTLEMENTDATE` is the END of the 5-minute interval.
 */
export {
  marketTimeToUtcIso,
  parseMarketTime,
  parseCompactMarketTime,
  formatMarketTime,
  NEM_UTC_OFFSET_MS,
} from './market-time'

/**
 * Parses NEMWeb IIS directory listings: `Reports/Current` 5-minute files (with interval end, size,
 * modification time) and `Reports/Archive` daily zips, hrefs resolved against the listing URL.
 */
export {
  currentFileTime,
  parseCurrentListing,
  parseArchiveListing,
  type ListingEntry,
  type ArchiveListingEntry,
  type NemwebFilePrefix,
} from './listing'

/**
 * DUID → region, fuel type, dispatch type and station, generated from AEMO's NEM Registration and
 * Exemption List (`scripts/aemo-duid-map.ts`, provenance in DUID-MAP.md) and bundled as JSON.
 */
export { registrationDuidMap, duidMapProvenance, type DuidMap } from './duid-map'
export { type DuidInfo, type DispatchType } from './duid-rules'

/** Whole-file failures with a stable `code` and `retryable` (e.g. `csv_footer_missing`, `zip_too_large`). */
export { AemoSourceError, type AemoSourceErrorCode } from './errors'

/** One refused input row, with the raw line, for `dlq.<topic>`. */
export type { SourceRejection } from '../rejection'

/**
 * Polling NEMWeb "Current" folders (conditional listing requests, files in order, each committed
 * with its cursor) and backfilling from the Archive's daily zips.
 */
export {
  createNemwebCycle,
  type NemwebKind,
  NEMWEB,
  NEMWEB_CAPS,
  processDownloadedFile,
  processFile,
  runBackfill,
} from './nemweb'
