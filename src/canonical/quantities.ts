import { z } from 'zod'

// Plausibility bounds, not market rules: values outside them are rejected to the DLQ as corrupt.
// The NEM market price cap is $20,300/MWh (FY2025-26) and rises yearly; the floor is -$1,000/MWh.
export const MW = z.number().finite().min(-50_000).max(50_000)
export const PRICE = z.number().finite().min(-1_000).max(100_000)
