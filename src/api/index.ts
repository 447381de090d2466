export { type ApiDeps, createApi, type GridPulseApi, openApiDocument } from './app'
export {
  type CommittedBatch,
  createStreamHub,
  type StreamHub,
  type StreamHubOptions,
  type StreamRecord,
  type StreamViewer,
  type StreamVisibility,
} from './stream/hub'
