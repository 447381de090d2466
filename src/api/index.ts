export { type ApiDeps, createApi, type GridPulseApi, openApiDocument } from './app'
