import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { TOPICS } from '../streams'

/**
 * One upstream file as GridPulse fetched it: where from, how big, when the publisher listed it and
 * when it was downloaded. Published with the file's events (same correlation id, `source_file` and
 * `source_sha256`), so every node's lineage can name the file without a copy of its facts on each
 * of the events: one record per file instead of four fields per event.
 */
export const SourceFileEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('SourceFileEvent'),
    url: z.url().max(2048).describe('Where the file was downloaded from'),
    size_bytes: z
      .number()
      .int()
      .min(0)
      .describe('Size as downloaded (the zip, not its CSV), bytes'),
    listed_at: UtcInstantSchema.nullable().describe(
      "The publisher's listing time of the file (NEMWeb: the directory listing's, minute precision); null when not listed"
    ),
    fetched_at: UtcInstantSchema.describe('When the download ended'),
  })
  .strict()
export type SourceFileEvent = z.infer<typeof SourceFileEventSchema>

export interface SourceFileIdentity {
  readonly url: string
}

/**
 * Identity: the URL. A file fetched again with other bytes (AEMO re-published it) is a new version
 * of the same record; the projection keeps the older one among the replaced versions.
 */
export const sourceFile = defineEvent<typeof SourceFileEventSchema, SourceFileIdentity>(
  SourceFileEventSchema,
  {
    topic: TOPICS.files,
    // A source's files stay in order on one partition.
    key: (e) => e.source,
    identity: (id) => [id.url],
    time: (e) => e.fetched_at,
  }
)
