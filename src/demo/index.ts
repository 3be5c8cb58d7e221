export { runDemo, DEMO_FLAGS, DASHBOARD_PORT, type DemoInit } from './demo.js';
export { countsOf, milestones, isSkip, KINDS, type Counts, type Kind, type Milestone, type NodeView } from './events.js';
export { readMeta, type DemoMeta } from './folder.js';
export { output, type Output } from './output.js';
