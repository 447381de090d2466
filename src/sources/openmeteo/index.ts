export {
  createForecastCycle,
  DEFAULT_LOCATIONS,
  forecastUrl,
  parseForecast,
  type WeatherLocation,
  WeatherLocationsSchema,
} from './forecast'
