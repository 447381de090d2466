/**
 * Inlines drizzle-kit's SQL migrations into a TypeScript module, so the compiled binary carries
 * them: drizzle's folder-reading migrator cannot read a folder inside Bun's `$bunfs`.
 * Run by `bun run db:generate`; a unit test fails when the module drifts from `drizzle/`.
 */
import { renderMigrationsModule } from '../src/projection/migrations-embed'

const out = new URL('../src/projection/migrations.gen.ts', import.meta.url)
await Bun.write(out, await renderMigrationsModule(new URL('../drizzle/', import.meta.url)))
process.stderr.write(`wrote ${out.pathname}\n`)
