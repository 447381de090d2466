export { createNemwebCycle, type NemwebKind, NEMWEB, runBackfill } from './aemo'
export { type Fetch, httpGet, retryAfterMs, shortUrl } from './http'
export {
  createForecastCycle,
  DEFAULT_LOCATIONS,
  forecastUrl,
  parseForecast,
  type WeatherLocation,
} from './openmeteo'
export {
  createPoller,
  type CycleContext,
  type CycleResult,
  failureDelayMs,
  OUTAGE_DEFAULTS,
  type OutagePolicy,
  type Poller,
  type Sink,
} from './poller'
