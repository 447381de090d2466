declare const BUILD_VERSION: string | undefined
declare const BUILD_COMMIT: string | undefined

/** `package.json` version + short git sha, defined by scripts/build.ts; `dev` when run from source. */
export const VERSION = typeof BUILD_VERSION === 'string' ? BUILD_VERSION : 'dev'
/** The git commit the binary was built from (scripts/build.ts); `unknown` when run from source. */
export const COMMIT = typeof BUILD_COMMIT === 'string' ? BUILD_COMMIT : 'unknown'
/**
 * The platform this code was built for: `bun build --compile --target=…` defines `process.platform`
 * and `process.arch` as the target's (from source they are the running Bun's).
 */
export const TARGET = `${process.platform}-${process.arch}`

/** The projection's consumer name; bump the version to rebuild (STYLE.md §2). */
export const PROJECTION_CONSUMER = 'gridpulse.projection.v1'

/** sysexits.h: a command-line usage error. */
export const EX_USAGE = 64
/** sysexits.h: an internal error (liveness given up, an unexpected throw). */
export const EX_SOFTWARE = 70
/** sysexits.h: a configuration error (bad env, Kafka topics laid out differently, rejected credentials). */
export const EX_CONFIG = 78
