/**
 * What a polling loop parks on between polls, so that new work (a publish in this process) starts
 * it at once instead of after its idle poll.
 */
export interface Wakeup {
  /**
   * Resolves at the next {@link Wakeup.wake}. Take it BEFORE looking for work: a wake that comes
   * while the loop looks then still releases the wait that follows.
   */
  next(): Promise<void>
  /** Releases every wait taken so far. */
  wake(): void
}

export function createWakeup(): Wakeup {
  let release: () => void = () => {}
  let current = new Promise<void>((resolve) => {
    release = resolve
  })
  return {
    next: () => current,
    wake() {
      const resolve = release
      current = new Promise<void>((r) => {
        release = r
      })
      resolve()
    },
  }
}
