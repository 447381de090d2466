/**
 * kafkajs's request queue schedules its next check with `setTimeout(fn, throttledUntil - Date.now())`
 * (network/requestQueue/index.js), a negative delay whenever the broker did not throttle. Node
 * clamps it silently; Bun clamps it too (to 1 ms, exactly what kafkajs wants) but prints a
 * `TimeoutNegativeWarning` on stderr each time, littering the JSON log stream.
 *
 * Bun prints process warnings through a default `'warning'` listener (a listener added beside it
 * does not silence it). While a Kafka bus is open, the listeners present at that moment are
 * therefore wrapped: `TimeoutNegativeWarning` is dropped and every other warning still reaches
 * them unchanged. Reference-counted: the last bus to close puts the original listeners back.
 */
type WarningListener = (warning: Error) => void

let installed: { wrapper: WarningListener; originals: WarningListener[]; refs: number } | undefined

export function filterTimeoutNegativeWarnings(): () => void {
  if (installed) installed.refs++
  else {
    const originals = process.listeners('warning') as WarningListener[]
    for (const listener of originals) process.off('warning', listener)
    const wrapper: WarningListener = (warning) => {
      if (warning?.name === 'TimeoutNegativeWarning') return
      for (const listener of originals) listener.call(process, warning)
    }
    process.on('warning', wrapper)
    installed = { wrapper, originals, refs: 1 }
  }
  let released = false
  return () => {
    if (released || !installed) return
    released = true
    if (--installed.refs > 0) return
    process.off('warning', installed.wrapper)
    for (const listener of installed.originals) process.on('warning', listener)
    installed = undefined
  }
}
