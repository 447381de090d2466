import { resolve } from 'node:path'

/** The repository root, wherever the clone lives. */
export const REPO_ROOT = resolve(import.meta.dir, '../..')
/** Real upstream samples live beside the repository (CI copies shared/ next to its clone). */
export const SHARED_FIXTURES = resolve(REPO_ROOT, '../shared/fixtures')
export const fixturePath = (...parts: string[]) => resolve(SHARED_FIXTURES, ...parts)
