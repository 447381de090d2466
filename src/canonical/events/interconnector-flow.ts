import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { MW } from '../quantities'
import { TOPICS } from '../streams'

/**
 * Flow on one interconnector for one interval. AEMO's sign convention: positive MW flows from the
 * first region of the id to the second (VIC1-NSW1 > 0 means Victoria exports to New South Wales).
 */
export const InterconnectorFlowEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('InterconnectorFlowEvent'),
    interconnector_id: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9-]{1,31}$/)
      .describe('AEMO interconnector id, e.g. VIC1-NSW1, T-V-MNSP1'),
    interval_end: UtcInstantSchema.describe('End of the 5-minute dispatch interval, UTC'),
    mw_flow: MW.describe('Dispatched flow, MW (sign: first region → second)'),
    metered_mw_flow: MW.nullable().describe('Metered flow at the start of the interval, MW'),
    mw_losses: MW.nullable().describe('Losses, MW'),
    export_limit_mw: MW.nullable(),
    import_limit_mw: MW.nullable(),
    intervention: z.boolean().describe('True when the flow comes from an intervention run'),
  })
  .strict()
export type InterconnectorFlowEvent = z.infer<typeof InterconnectorFlowEventSchema>

export interface InterconnectorFlowIdentity {
  readonly interconnector_id: string
  readonly interval_end: string
}

export const interconnectorFlow = defineEvent<
  typeof InterconnectorFlowEventSchema,
  InterconnectorFlowIdentity
>(InterconnectorFlowEventSchema, {
  topic: TOPICS.interconnectors,
  key: (e) => e.interconnector_id,
  identity: (id) => [id.interconnector_id, id.interval_end],
  time: (e) => e.interval_end,
})
