import { fixturePath } from './paths'

/** Real Open-Meteo responses from ../shared/fixtures/openmeteo (see its PROVENANCE.md). */
export const openMeteoFixture = (
  name: 'forecast' | 'forecast_minimal' | 'satellite_radiation_not_covered' | 'tempi_forecast'
) => {
  const file = {
    forecast: 'frenck-python-open-meteo/forecast.json',
    forecast_minimal: 'frenck-python-open-meteo/forecast_minimal.json',
    satellite_radiation_not_covered: 'frenck-python-open-meteo/satellite_radiation_not_covered.txt',
    tempi_forecast: 'tempi-marathon-open-meteo-php/forecast.json',
  }[name]
  return Bun.file(fixturePath('openmeteo', file)).text()
}

/**
 * A local stand-in for api.open-meteo.com: `/v1/forecast` answers with what `respond` returns,
 * and every request is recorded. A batched request (n comma-separated coordinates) is answered
 * by the scenario with n, as the real API returns a JSON array in request order.
 */
export function startOpenMeteoServer(
  respond: (url: URL, count: number, requestNumber: number) => Response | Promise<Response>
) {
  const requests: URL[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(request) {
      const url = new URL(request.url)
      if (url.pathname !== '/v1/forecast') return new Response('not found', { status: 404 })
      requests.push(url)
      const count = (url.searchParams.get('latitude') ?? '').split(',').length
      return respond(url, count, requests.length)
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) }
}

/** `count` copies of the real single-location response, as the array a batched call returns. */
export async function batchedForecast(count: number): Promise<string> {
  const one = JSON.parse(await openMeteoFixture('forecast'))
  return JSON.stringify(Array.from({ length: count }, () => one))
}
