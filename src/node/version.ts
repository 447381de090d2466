declare const BUILD_VERSION: string | undefined

/** `package.json` version + git sha, defined by scripts/build.ts; `dev` when run from source. */
export const VERSION = typeof BUILD_VERSION === 'string' ? BUILD_VERSION : 'dev'

/** The projection's consumer name; bump the version to rebuild (STYLE.md §2). */
export const PROJECTION_CONSUMER = 'gridpulse.projection.v1'

/** sysexits.h: a command-line usage error. */
export const EX_USAGE = 64
/** sysexits.h: an internal error (liveness given up, an unexpected throw). */
export const EX_SOFTWARE = 70
/** sysexits.h: a configuration error (bad env, Kafka topics laid out differently, rejected credentials). */
export const EX_CONFIG = 78
