export { createNemwebCycle, type NemwebKind, NEMWEB, runBackfill } from './aemo'
export { type Fetch, httpGet, retryAfterMs } from './http'
export {
  createForecastCycle,
  DEFAULT_LOCATIONS,
  forecastUrl,
  parseForecast,
  type WeatherLocation,
  WeatherLocationsSchema,
} from './openmeteo'
export { createPoller, type CycleResult, type Poller, type Sink } from './poller'
