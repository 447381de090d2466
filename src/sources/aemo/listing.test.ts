import { describe, expect, test } from 'bun:test'
import {
  AEMO_FIXTURES,
  buildListingHtml,
  fixtureBytes,
} from '../../../tests/support/nemweb-fixtures'
import { parseArchiveListing, parseCurrentListing } from './listing'

const html = (fixture: string) => new TextDecoder().decode(fixtureBytes(fixture))

describe('parseCurrentListing over the real NEMWeb pages', () => {
  test('DispatchIS page saved from a browser (absolute hrefs): 577 zips, DUPLICATE/ and parent ignored', () => {
    const entries = parseCurrentListing(
      html(AEMO_FIXTURES.dispatchIsListing),
      'http://nemweb.com.au/Reports/Current/DispatchIS_Reports/',
      'PUBLIC_DISPATCHIS'
    )
    expect(entries).toHaveLength(577)
    expect(entries[0]).toEqual({
      name: 'PUBLIC_DISPATCHIS_202111081435_0000000352251582.zip',
      href: 'http://nemweb.com.au/Reports/Current/DispatchIS_Reports/PUBLIC_DISPATCHIS_202111081435_0000000352251582.zip',
      interval_end: '2021-11-08T04:35:00Z',
      size: 18166,
      // "Monday, November 8, 2021  2:30 PM" in NEM time
      modified: '2021-11-08T04:30:00Z',
    })
    expect(entries.at(-1)!.name).toBe('PUBLIC_DISPATCHIS_202111101435_0000000352367891.zip')
    expect(entries.every((e) => !e.href.includes('DUPLICATE'))).toBe(true)
  })

  test('raw Dispatch_SCADA server page (root-relative hrefs, other path case): 578 zips resolved against the listing URL', () => {
    const entries = parseCurrentListing(
      html(AEMO_FIXTURES.dispatchScadaListing),
      'https://nemweb.com.au/Reports/Current/Dispatch_SCADA/',
      'PUBLIC_DISPATCHSCADA'
    )
    expect(entries).toHaveLength(578)
    expect(entries[0]!.interval_end).toBe('2021-08-31T02:55:00Z')
    expect(entries.at(-1)!.interval_end).toBe('2021-09-02T03:00:00Z')
    const live = entries.find(
      (e) => e.name === 'PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.zip'
    )
    expect(live).toEqual({
      name: 'PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.zip',
      href: 'https://nemweb.com.au/Reports/CURRENT/Dispatch_SCADA/PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.zip',
      interval_end: '2021-09-02T02:55:00Z',
      size: 3040,
      modified: '2021-09-02T02:50:00Z',
    })
    // Intervals are sorted and 5 minutes apart.
    const gaps = entries
      .slice(1)
      .map((e, i) => Date.parse(e.interval_end) - Date.parse(entries[i]!.interval_end))
    expect(new Set(gaps)).toEqual(new Set([300_000]))
  })

  test('the prefix selects the report: the SCADA page has no DispatchIS files', () => {
    expect(
      parseCurrentListing(
        html(AEMO_FIXTURES.dispatchScadaListing),
        'https://nemweb.com.au/Reports/Current/Dispatch_SCADA/',
        'PUBLIC_DISPATCHIS'
      )
    ).toEqual([])
  })

  test('a listing URL without its trailing slash still resolves; links outside the directory are ignored', () => {
    const page = buildListingHtml('/Reports/Current/DispatchIS_Reports/', [
      {
        name: 'PUBLIC_DISPATCHIS_202604020005_0000000005924881.zip',
        size: 10,
        intervalEnd: '2026-04-01T14:05:00Z',
      },
    ]).replace(
      '</pre>',
      '<A HREF="/Reports/Current/DispatchIS_Reports/DUPLICATE/PUBLIC_DISPATCHIS_202604020010_0000000005924882.zip">dup</A><br><A HREF="/elsewhere/PUBLIC_DISPATCHIS_202604020010_0000000005924882.zip">x</A></pre>'
    )
    const entries = parseCurrentListing(
      page,
      'http://127.0.0.1:8080/Reports/Current/DispatchIS_Reports',
      'PUBLIC_DISPATCHIS'
    )
    expect(entries.map((e) => e.href)).toEqual([
      'http://127.0.0.1:8080/Reports/Current/DispatchIS_Reports/PUBLIC_DISPATCHIS_202604020005_0000000005924881.zip',
    ])
  })

  test('names that only look right are ignored', () => {
    const page = buildListingHtml('/R/', [
      { name: 'PUBLIC_DISPATCHIS_202604020005_0000000005924881.zip.tmp', size: 1 },
      { name: 'PUBLIC_DISPATCHIS_202613020005_0000000005924881.zip', size: 1 },
      { name: 'PUBLIC_DISPATCHIS_20260402000_0000000005924881.zip', size: 1 },
      { name: 'PUBLIC_DISPATCHIS_20260402.zip', size: 1 },
    ])
    expect(parseCurrentListing(page, 'http://h/R/', 'PUBLIC_DISPATCHIS')).toEqual([])
  })
})

describe('rooftop PV listings', () => {
  // Names as NEMWeb writes them (ryukyi/au-energy-scraper, opennem, aemo-data-updater); sizes are placeholders.
  const current = buildListingHtml('/Reports/Current/ROOFTOP_PV/ACTUAL/', [
    { name: 'PUBLIC_ROOFTOP_PV_ACTUAL_SATELLITE_20240303200000_0000000412707331.zip', size: 1 },
    { name: 'PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240303200000_0000000412707330.zip', size: 1 },
    { name: 'PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240303193000_0000000412707001.zip', size: 1 },
    { name: 'PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240303193015_0000000412707002.zip', size: 1 },
    { name: 'PUBLIC_ROOFTOP_PV_FORECAST_20240303200000_0000000412707003.zip', size: 1 },
  ])

  test('both estimate types, ordered by the time in the name then the name; other reports and odd seconds ignored', () => {
    const entries = parseCurrentListing(
      current,
      'https://nemweb.com.au/Reports/Current/ROOFTOP_PV/ACTUAL/',
      'PUBLIC_ROOFTOP_PV_ACTUAL'
    )
    expect(entries.map((e) => [e.interval_end, e.name.split('_')[4]])).toEqual([
      ['2024-03-03T09:30:00Z', 'MEASUREMENT'],
      ['2024-03-03T10:00:00Z', 'MEASUREMENT'],
      ['2024-03-03T10:00:00Z', 'SATELLITE'],
    ])
  })

  test('weekly Archive zips of both types, by date', () => {
    const archive = buildListingHtml('/Reports/Archive/ROOFTOP_PV/ACTUAL/', [
      { name: 'PUBLIC_ROOFTOP_PV_ACTUAL_SATELLITE_20240118.zip', size: 1 },
      { name: 'PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240118.zip', size: 1 },
      { name: 'PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240111.zip', size: 1 },
    ])
    expect(
      parseArchiveListing(
        archive,
        'https://nemweb.com.au/Reports/Archive/ROOFTOP_PV/ACTUAL/',
        'PUBLIC_ROOFTOP_PV_ACTUAL'
      ).map((e) => [e.market_date, e.name.split('_')[4]])
    ).toEqual([
      ['2024-01-11', 'MEASUREMENT'],
      ['2024-01-18', 'MEASUREMENT'],
      ['2024-01-18', 'SATELLITE'],
    ])
  })
})

describe('parseArchiveListing', () => {
  // No Archive page is among the fixtures; this one has the raw IIS page's layout.
  const page = buildListingHtml('/Reports/Archive/DispatchIS_Reports/', [
    { name: 'PUBLIC_DISPATCHIS_20260402.zip', size: 5_012_345, modified: '2026-04-02T18:10:00Z' },
    { name: 'PUBLIC_DISPATCHIS_20260401.zip', size: 4_998_001, modified: '2026-04-01T18:10:00Z' },
    { name: 'PUBLIC_DISPATCHIS_20260431.zip', size: 1 },
    { name: 'PUBLIC_DISPATCHIS_202604020005_0000000005924881.zip', size: 1 },
  ])

  test('daily zips with their market day, sorted; 5-minute names and impossible dates ignored', () => {
    expect(
      parseArchiveListing(
        page,
        'https://nemweb.com.au/Reports/Archive/DispatchIS_Reports/',
        'PUBLIC_DISPATCHIS'
      )
    ).toEqual([
      {
        name: 'PUBLIC_DISPATCHIS_20260401.zip',
        href: 'https://nemweb.com.au/Reports/Archive/DispatchIS_Reports/PUBLIC_DISPATCHIS_20260401.zip',
        market_date: '2026-04-01',
        size: 4_998_001,
        modified: '2026-04-01T18:10:00Z',
      },
      {
        name: 'PUBLIC_DISPATCHIS_20260402.zip',
        href: 'https://nemweb.com.au/Reports/Archive/DispatchIS_Reports/PUBLIC_DISPATCHIS_20260402.zip',
        market_date: '2026-04-02',
        size: 5_012_345,
        modified: '2026-04-02T18:10:00Z',
      },
    ])
  })
})
