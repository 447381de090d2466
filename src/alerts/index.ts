export { createAllowlist, parseAllowlist } from './allowlist'
export { retryDelayMs } from './deliver'
export { deliveryIdFor, evaluatePrice, evaluateStale, LOOKBACK_MS } from './evaluate'
export {
  type AlertService,
  type AlertsPort,
  createAlertService,
  type FiredAlert,
} from './service'
export { DELIVERY_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing'
