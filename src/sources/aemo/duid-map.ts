import { z } from 'zod'
import data from './duid-map.json'
import { type DuidInfo, DuidInfoSchema } from './duid-rules'

/** DUID → region, fuel type, dispatch type and station. */
export type DuidMap = ReadonlyMap<string, DuidInfo>

const DuidMapFileSchema = z.object({
  provenance: z.object({ source_sha256: z.string(), sheet: z.string() }).loose(),
  duids: z.record(z.string().min(1), DuidInfoSchema),
})

let registration: DuidMap | undefined

/**
 * The committed map generated from AEMO's Registration and Exemption List (see DUID-MAP.md),
 * bundled into the binary through the JSON import and validated once, on first use.
 */
export function registrationDuidMap(): DuidMap {
  registration ??= new Map(Object.entries(DuidMapFileSchema.parse(data).duids))
  return registration
}

/** Provenance of the committed map (source workbook, its sha256, sheet, rules). */
export const duidMapProvenance = (): Readonly<Record<string, unknown>> => data.provenance
