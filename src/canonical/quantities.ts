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
