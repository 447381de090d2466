import type { GridEventType } from '@/canonical'
import { dispatchReadModel } from './dispatch'
import { fcasPricesReadModel } from './fcas-prices'
import { interconnectorFlowsReadModel } from './interconnector-flows'
import { pricesReadModel } from './prices'
import type { ReadModel } from './read-model'
import { rooftopPvReadModel } from './rooftop-pv'
import { scadaReconciliationReadModel } from './scada-reconciliation'
import { sourceFilesReadModel } from './source-files'
import { weatherReadModel } from './weather'

/**
 * Every stream's read model, one per event type: the compiler checks this list against the event
 * registry, so a new event type without a read model does not build. The projector dispatches
 * through it; stats, totals and gaps iterate it (in this order), so every stream is counted.
 */
export const READ_MODELS = {
  MarketDispatchEvent: dispatchReadModel,
  RegionPriceEvent: pricesReadModel,
  WeatherObservation: weatherReadModel,
  InterconnectorFlowEvent: interconnectorFlowsReadModel,
  ScadaReconciliationEvent: scadaReconciliationReadModel,
  RooftopPvEvent: rooftopPvReadModel,
  RegionFcasPriceEvent: fcasPricesReadModel,
  SourceFileEvent: sourceFilesReadModel,
} as const satisfies { readonly [T in GridEventType]: ReadModel<T, unknown> }

export type AnyReadModel = (typeof READ_MODELS)[GridEventType]
export const READ_MODEL_LIST: readonly AnyReadModel[] = Object.values(READ_MODELS)
