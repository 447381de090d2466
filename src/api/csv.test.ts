import { afterEach, describe, expect, test } from 'bun:test'
import { createEvent, type GridEvent } from '@/canonical'
import { expectProblem, json } from '../../tests/support/api'
import {
  dispatchEvent,
  oneEventOfEachType,
  priceEvent,
  waitFor,
  weatherEvent,
} from '../../tests/support/events'
import { createHarness } from '../../tests/support/harness'
import { csvField, csvRecord } from './csv'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

/** RFC 4180 read back, written here from the RFC (not from the encoder under test). */
function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let field = ''
  let record: string[] = []
  let i = 0
  while (i < text.length) {
    if (text[i] === '"') {
      for (i++; i < text.length; i++) {
        if (text[i] === '"' && text[i + 1] === '"') field += text[i++]
        else if (text[i] === '"') break
        else field += text[i]
      }
      i++
    } else if (text[i] === ',') {
      record.push(field)
      field = ''
      i++
    } else if (text.startsWith('\r\n', i)) {
      records.push([...record, field])
      record = []
      field = ''
      i += 2
    } else field += text[i++]
  }
  expect(field).toBe('') // every record, the last included, ends with CRLF
  return records
}

/** A CSV response as objects keyed by the header, after checking the response is CSV. */
async function csvOf(response: Response | Promise<Response>) {
  const r = await response
  expect(r.status).toBe(200)
  expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present')
  const [header, ...rows] = parseCsv(await r.text())
  return {
    header: header!,
    rows: rows.map((row) => Object.fromEntries(row.map((v, i) => [header![i]!, v]))),
  }
}

/** A JSON value as it reads in CSV: null → empty, nested values as their JSON text. */
const asCell = (value: unknown) =>
  value === null || value === undefined
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value)

async function project(events: GridEvent[], done: () => boolean) {
  for (let i = 0; i < events.length; i += 1000) await harness.bus.publish(events.slice(i, i + 1000))
  await waitFor(done, 'the events projected')
}

describe('fields (RFC 4180)', () => {
  test('quotes what needs quoting, doubles inner quotes, writes null empty and nested values as JSON', () => {
    expect(csvRecord(['a', 1.5, -2, true, null, undefined])).toBe('a,1.5,-2,true,,\r\n')
    expect(csvField('Sydney, "CBD"\r\nnorth')).toBe('"Sydney, ""CBD""\r\nnorth"')
    expect(csvField([{ duid: 'X1', value_mw: 5 }])).toBe('"[{""duid"":""X1"",""value_mw"":5}]"')
    // A text a spreadsheet would run as a formula is kept as text; numbers are never touched.
    expect(csvField('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"')
    expect(csvField('-1+2')).toBe("'-1+2")
  })
})

describe('CSV on the list routes', () => {
  test('Accept: text/csv and ?format=csv give the JSON fields as columns, hostile text read back intact', async () => {
    harness = await createHarness()
    const hostile = weatherEvent('NSW1', '=2+3, "CBD"\r\nSydney', '2026-10-03T10:30:00Z', 17.7)
    await project(
      [hostile, weatherEvent('VIC1', 'Melbourne', '2026-10-03T10:30:00Z', 12)],
      () => harness.queries.stats().totals.weather === 2
    )
    const page = await json(harness.api.request('/api/v1/weather?region_id=NSW1'))
    const byAccept = await csvOf(
      harness.api.request('/api/v1/weather?region_id=NSW1', { headers: { Accept: 'text/csv' } })
    )
    const byFormat = await csvOf(harness.api.request('/api/v1/weather?region_id=NSW1&format=csv'))
    expect(byFormat).toEqual(byAccept)
    expect(byAccept.header).toEqual(Object.keys(page.data[0]))
    expect(byAccept.rows).toHaveLength(1)
    for (const [k, v] of Object.entries(page.data[0])) {
      expect(byAccept.rows[0]![k]).toBe(k === 'location' ? `'${v}` : asCell(v))
    }
  })

  test('a nested value (unmapped_units) is its JSON text in one field', async () => {
    harness = await createHarness()
    const event = oneEventOfEachType().ScadaReconciliationEvent
    await project([event], () => harness.queries.stats().totals.scada_reconciliation === 1)
    const { rows } = await csvOf(
      harness.api.request('/api/v1/generation/reconciliation?format=csv')
    )
    expect(JSON.parse(rows[0]!.unmapped_units!)).toEqual(event.unmapped_units)
  })

  test('the export has no page size: 2,500 rows, the same as paging through JSON; limit and cursor apply when given', async () => {
    harness = await createHarness()
    const events = Array.from({ length: 2500 }, (_, i) =>
      priceEvent('SA1', new Date(Date.parse('2026-01-01T00:05:00Z') + i * 300_000).toISOString(), i)
    )
    await project(events, () => harness.queries.stats().totals.prices === 2500)
    const all = await csvOf(harness.api.request('/api/v1/prices?format=csv'))
    expect(all.rows).toHaveLength(2500)
    const paged: { event_id: string }[] = []
    let cursor = ''
    do {
      const page = await json(harness.api.request(`/api/v1/prices?limit=1000${cursor}`))
      paged.push(...page.data)
      cursor = page.meta.next_cursor ? `&cursor=${page.meta.next_cursor}` : ''
    } while (cursor)
    expect(all.rows.map((r) => r.event_id)).toEqual(paged.map((r) => r.event_id))
    const first = await json(harness.api.request('/api/v1/prices?limit=10'))
    const rest = await csvOf(
      harness.api.request(`/api/v1/prices?format=csv&cursor=${first.meta.next_cursor}`)
    )
    expect(rest.rows).toHaveLength(2490)
    expect(rest.rows[0]!.event_id).toBe(paged[10]!.event_id)
    expect(
      (await csvOf(harness.api.request('/api/v1/prices?format=csv&limit=7'))).rows
    ).toHaveLength(7)
  })

  test('a dead letter, quotes and commas in its raw payload, reads back as JSON lists it', async () => {
    harness = await createHarness()
    const poison = { ...dispatchEvent('SA1', 'wind', '2026-04-01T00:05:00Z', 1), value_mw: 1e9 }
    await project([poison as never], () => harness.queries.stats().totals.dead_letters === 1)
    const page = await json(harness.api.request('/api/v1/dlq'))
    const { header, rows } = await csvOf(
      harness.api.request('/api/v1/dlq', { headers: { Accept: 'text/csv' } })
    )
    // The schema's order (DeadLetter); JSON objects are unordered.
    expect([...header].sort()).toEqual(Object.keys(page.data[0]).sort())
    expect(rows[0]).toEqual(
      Object.fromEntries(Object.entries(page.data[0]).map(([k, v]) => [k, asCell(v)]))
    )
  })
})

describe('content negotiation', () => {
  test.each([
    ['text/csv', 'csv'],
    ['text/*', 'csv'],
    ['application/json, text/csv;q=0.5', 'json'],
    ['text/csv;q=0.9, application/json;q=0.8', 'csv'],
    ['*/*', 'json'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'json'],
  ])('Accept: %s → %s', async (accept, answer) => {
    harness = await createHarness()
    const response = await harness.api.request('/api/v1/prices', { headers: { Accept: accept } })
    expect(response.headers.get('content-type')).toStartWith(
      answer === 'csv' ? 'text/csv' : 'application/json'
    )
  })

  test('format wins over Accept; HEAD answers the CSV headers without a body', async () => {
    harness = await createHarness()
    const forced = await harness.api.request('/api/v1/prices?format=json', {
      headers: { Accept: 'text/csv' },
    })
    expect(forced.headers.get('content-type')).toStartWith('application/json')
    const head = await harness.api.request('/api/v1/dispatch?format=csv&interval=1d', {
      method: 'HEAD',
    })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-disposition')).toBe(
      'attachment; filename="gridpulse-dispatch-1d.csv"'
    )
    expect(await head.text()).toBe('')
  })
})

describe('CSV of aggregates', () => {
  test('the bucket fields as columns, the same buckets as JSON, every one of them', async () => {
    harness = await createHarness()
    const events = Array.from({ length: 600 }, (_, i) =>
      createEvent('InterconnectorFlowEvent', oneEventOfEachType().InterconnectorFlowEvent, {
        interconnector_id: i % 2 ? 'VIC1-NSW1' : 'T-V-MNSP1',
        interval_end: new Date(
          Date.parse('2026-04-01T00:05:00Z') + Math.floor(i / 2) * 300_000
        ).toISOString(),
        mw_flow: i - 300,
        metered_mw_flow: null,
        mw_losses: 1.5,
        export_limit_mw: 600,
        import_limit_mw: -500,
        intervention: i % 7 === 0,
      })
    )
    await project(events, () => harness.queries.stats().totals.interconnector_flows === 600)
    const page = await json(harness.api.request('/api/v1/interconnectors?interval=30m&limit=1000'))
    expect(page.data).toHaveLength(2 * 50)
    const { header, rows } = await csvOf(
      harness.api.request('/api/v1/interconnectors?interval=30m&format=csv')
    )
    expect(header).toEqual(Object.keys(page.data[0]))
    expect(rows).toEqual(
      page.data.map((b: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(b).map(([k, v]) => [k, asCell(v)]))
      )
    )
  })
})

describe('CSV goes through the same keys, limits and correlation ids', () => {
  test('no key → 401; with one, the export counts against the consumer’s budget and echoes the id', async () => {
    harness = await createHarness({ keys: true })
    await expectProblem(await harness.api.request('/api/v1/prices?format=csv'), 401, 'unauthorized')
    const key = harness.createKey('analytics', 'read')
    const headers = { apikey: key, 'X-Correlation-ID': 'csv-export-1', Accept: 'text/csv' }
    const first = await harness.api.request('/api/v1/prices', { headers })
    expect(first.headers.get('content-type')).toStartWith('text/csv')
    expect(first.headers.get('x-correlation-id')).toBe('csv-export-1')
    expect(first.headers.get('ratelimit-remaining')).toBe('99')
    for (let i = 0; i < 99; i++)
      expect((await harness.api.request('/api/v1/prices?format=csv', { headers })).status).toBe(200)
    await expectProblem(
      await harness.api.request('/api/v1/prices?format=csv', { headers }),
      429,
      'rate_limited'
    )
  })
})
