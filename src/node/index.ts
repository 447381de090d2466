export { createNode, type GridPulseNode, type NodeOverrides } from './create-node'
export { EX_CONFIG, EX_SOFTWARE, EX_USAGE, PROJECTION_CONSUMER, VERSION } from './version'
