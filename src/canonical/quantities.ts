import { z } from 'zod'

// Plausibility bounds, not market rules: values outside them are rejected to the DLQ as corrupt.
// The NEM market price cap is $20,300/MWh (FY2025-26) and rises yearly; the floor is -$1,000/MWh.
export const MW = z.number().finite().min(-50_000).max(50_000)
export const PRICE = z.number().finite().min(-1_000).max(100_000)
// FCAS prices (AUD/MW/h: per MW of capability enabled, per hour) are floored at $0 and capped at
// the market price cap (AEMO MMS DISPATCHPRICE note: "MPC ($VoLL) or MPF ($zero)").
export const FCAS_PRICE = z.number().finite().min(0).max(100_000)
// Energy held in storage (MWh). The whole NEM's grid batteries hold a few tens of GWh.
export const MWH = z.number().finite().min(0).max(1_000_000)
// AEMO's NUMBER(3,0) flag columns (APCFLAG, MARKETSUSPENDEDFLAG): the raw value, bits and all.
export const MMS_FLAG = z.number().int().min(0).max(999)
// AEMO's short status texts (PRICE_STATUS VARCHAR2(20), OCD_STATUS (14), MII_STATUS (21)): kept
// verbatim, not as a closed enum, so a status AEMO adds does not cost a price.
export const MMS_STATUS = z
  .string()
  .regex(/^[A-Z][A-Z0-9_ ]{0,20}$/)
  .max(21)

/**
 * Curtailment, MW: what semi-scheduled plant could have produced (UIGF) minus what it was
 * dispatched (cleared), never negative (cleared can exceed the forecast: 3 intervals of the April
 * 2026 sample, down to −10.98 MW, count as 0), null when either figure is. AEMO publishes both with
 * 5 decimals (NUMBER(15,5)), so the difference is rounded to 5 decimals: exact at AEMO's precision,
 * without binary floating-point noise (4268.80845 − 3329.75799 is 939.05046, not
 * 939.0504600000001). Sums of curtailments are rounded the same way. One definition for the
 * curtailment read model and the curtailment alert rule.
 */
export function curtailmentMw(available: number | null, cleared: number | null): number | null {
  if (available === null || cleared === null) return null
  return Math.max(0, round5(available - cleared))
}
export const round5 = (mw: number) => Math.round(mw * 1e5) / 1e5

/** Solar plus wind curtailment of a region price event, MW; null when either is unknown. */
export function regionCurtailmentMw(e: {
  readonly ss_solar_uigf_mw: number | null
  readonly ss_solar_cleared_mw: number | null
  readonly ss_wind_uigf_mw: number | null
  readonly ss_wind_cleared_mw: number | null
}): { solar: number | null; wind: number | null; total: number | null } {
  const solar = curtailmentMw(e.ss_solar_uigf_mw, e.ss_solar_cleared_mw)
  const wind = curtailmentMw(e.ss_wind_uigf_mw, e.ss_wind_cleared_mw)
  return { solar, wind, total: solar === null || wind === null ? null : round5(solar + wind) }
}
