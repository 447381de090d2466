import { expect, test } from 'bun:test'
import { REPO_ROOT } from './support/paths'

// One formatter, enforced: `bun run format` fixes what this reports.
test('every source file is formatted (biome format)', () => {
  const run = Bun.spawnSync([`${REPO_ROOT}/node_modules/.bin/biome`, 'format', '.'], {
    cwd: REPO_ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const output = `${run.stdout}${run.stderr}`
  if (run.exitCode !== 0) console.error(output.slice(0, 4000))
  expect(run.exitCode).toBe(0)
})
