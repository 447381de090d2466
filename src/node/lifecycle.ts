import type { Logger } from '@/observability'

export interface Closer {
  readonly name: string
  readonly close: () => unknown
}

/** Closes in reverse order of creation; one failing closer does not keep the others open. */
export async function closeAll(closers: readonly Closer[], log: Logger): Promise<void> {
  for (const { name, close } of [...closers].reverse()) {
    try {
      await close()
    } catch (error) {
      log.error({ err: error, resource: name }, 'close failed')
    }
  }
}
