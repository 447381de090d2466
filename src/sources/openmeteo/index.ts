export {
  createForecastCycle,
  DEFAULT_LOCATIONS,
  forecastUrl,
  parseForecast,
  type WeatherLocation,
} from './forecast'
