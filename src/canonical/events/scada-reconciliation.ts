import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { NEM_KEY, TOPICS } from '../streams'

/**
 * Where every MW of one SCADA interval went, NEM-wide: `total_mw` (Σ SCADAVALUE in the file, loads
 * positive as AEMO reports consumption) = `generation_mw` + `load_mw` + `unmapped_mw`. The interval's
 * MarketDispatchEvents sum to `generation_mw − load_mw` (loads are negative generation there).
 */
export const ScadaReconciliationEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('ScadaReconciliationEvent'),
    interval_end: UtcInstantSchema.describe('End of the 5-minute dispatch interval, UTC'),
    total_mw: z
      .number()
      .finite()
      .describe('Σ SCADAVALUE of every unit in the file for the interval'),
    generation_mw: z.number().finite().describe('Of which mapped generating units'),
    load_mw: z
      .number()
      .finite()
      .describe('Of which mapped scheduled loads (pumps, battery loads), as consumption'),
    unmapped_mw: z.number().finite().describe('Of which units missing from the DUID mapping'),
    unit_count: z.number().int().min(0),
    unmapped_units: z
      .array(z.object({ duid: z.string().min(1).max(32), value_mw: z.number().finite() }).strict())
      .max(2_000)
      .describe('Every unmapped DUID with its MW: nothing is silently dropped'),
  })
  .strict()
export type ScadaReconciliationEvent = z.infer<typeof ScadaReconciliationEventSchema>

export interface ScadaReconciliationIdentity {
  readonly interval_end: string
}

export const scadaReconciliation = defineEvent<
  typeof ScadaReconciliationEventSchema,
  ScadaReconciliationIdentity
>(ScadaReconciliationEventSchema, {
  // Beside the dispatch events it reconciles, so a consumer of the topic sees both in order.
  topic: TOPICS.dispatch,
  // NEM-wide: one key, so the reconciliations stay in order among themselves.
  key: () => NEM_KEY,
  identity: (id) => [id.interval_end],
  time: (e) => e.interval_end,
})
