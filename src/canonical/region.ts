import { z } from 'zod'

export const REGION_IDS = ['NSW1', 'QLD1', 'SA1', 'TAS1', 'VIC1'] as const

export const RegionIdSchema = z.enum(REGION_IDS).describe('NEM region identifier')
export type RegionId = z.infer<typeof RegionIdSchema>
