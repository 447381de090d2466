export { createNode, type GridPulseNode, type NodeOverrides } from './create-node'
export {
  COMMIT,
  EX_CONFIG,
  EX_SOFTWARE,
  EX_USAGE,
  PROJECTION_CONSUMER,
  TARGET,
  VERSION,
} from './version'
