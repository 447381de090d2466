import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { readRegistrationRows, renderDuidMapJson } from '../../../scripts/aemo-duid-map'
import { fixtureBytes } from '../../../tests/support/nemweb-fixtures'
import { duidMapProvenance, registrationDuidMap } from './duid-map'
import { buildDuidMap, type RegistrationRow } from './duid-rules'

const WORKBOOK = 'aemo/duid/NEM-Registration-and-Exemption-List.xlsx'
const row = (over: Partial<RegistrationRow>): RegistrationRow => ({
  duid: 'X1',
  station: 'Station',
  region: 'NSW1',
  dispatchType: 'Generating Unit',
  fuelPrimary: 'Fossil',
  fuelDescriptor: 'Natural Gas',
  technologyPrimary: 'Combustion',
  technologyDescriptor: 'OCGT',
  ...over,
})

describe('DUID map rules', () => {
  test('the committed duid-map.json is exactly what the script generates from the workbook', () => {
    const committed = readFileSync(new URL('./duid-map.json', import.meta.url), 'utf8')
    expect(
      renderDuidMapJson(
        fixtureBytes(WORKBOOK),
        'shared/fixtures/aemo/duid/NEM-Registration-and-Exemption-List.xlsx'
      )
    ).toBe(committed)
  })

  test('every DUID of the sheet is mapped except the unnamed rows and Basslink', () => {
    const rows = readRegistrationRows(fixtureBytes(WORKBOOK))
    expect(rows).toHaveLength(573)
    const map = registrationDuidMap()
    expect(map.size).toBe(561)
    expect(duidMapProvenance()).toMatchObject({
      sheet: 'PU and Scheduled Loads',
      source_sha256: expect.stringMatching(/^d678b165a3e3ca12/),
    })
  })

  test.each([
    ['ER01', 'NSW1', 'black_coal', 'generating_unit'],
    ['YWPS4', 'VIC1', 'brown_coal', 'generating_unit'],
    ['AGLHAL', 'SA1', 'gas', 'generating_unit'],
    ['HUNTER1', 'NSW1', 'gas', 'generating_unit'],
    ['HASTING1', 'VIC1', 'gas', 'generating_unit'],
    ['MSTUART1', 'QLD1', 'distillate', 'generating_unit'],
    ['HDWF2', 'SA1', 'wind', 'generating_unit'],
    ['HPR1', 'SA1', 'battery_discharging', 'bidirectional_unit'],
    ['KEPBL1', 'QLD1', 'battery_charging', 'load'],
    ['PUMP2', 'QLD1', 'hydro', 'load'],
    ['SHPUMP', 'NSW1', 'hydro', 'load'],
    ['SNOWYP', 'NSW1', 'hydro', 'load'],
    ['BOLIVAR1', 'SA1', 'bioenergy', 'generating_unit'],
    ['TULLYSM1', 'QLD1', 'bioenergy', 'generating_unit'],
  ])('%s → %s %s (%s)', (duid, region_id, fuel_type, dispatch_type) => {
    expect(registrationDuidMap().get(duid)).toMatchObject({ region_id, fuel_type, dispatch_type })
  })

  test('Basslink (an interconnector registered as generating units) is excluded, so it stays unmapped', () => {
    expect(registrationDuidMap().has('BLNKTAS')).toBe(false)
    expect(registrationDuidMap().has('BLNKVIC')).toBe(false)
  })

  test('an unknown category, region or dispatch type fails the build instead of becoming "other"', () => {
    expect(() =>
      buildDuidMap([row({ fuelPrimary: 'Fusion', fuelDescriptor: 'Deuterium' })])
    ).toThrow(/no rule/)
    expect(() => buildDuidMap([row({ region: 'WA1' })])).toThrow(/unknown region/)
    expect(() => buildDuidMap([row({ dispatchType: 'Virtual Unit' })])).toThrow(
      /unknown dispatch type/
    )
    expect(() => buildDuidMap([row({}), row({ fuelDescriptor: 'Black Coal' })])).toThrow(
      /different mappings/
    )
  })

  test('a load without a fuel takes the fuel of its station, and fails when the station has none', () => {
    const pump = row({
      duid: 'P1',
      dispatchType: 'Load',
      fuelPrimary: '-',
      fuelDescriptor: '-',
      technologyPrimary: '-',
      technologyDescriptor: '-',
    })
    const gen = row({ duid: 'G1', fuelPrimary: 'Hydro', fuelDescriptor: 'Water' })
    expect(buildDuidMap([pump, gen]).duids['P1']).toMatchObject({
      fuel_type: 'hydro',
      dispatch_type: 'load',
    })
    expect(() => buildDuidMap([pump])).toThrow(/load without a fuel/)
  })
})
