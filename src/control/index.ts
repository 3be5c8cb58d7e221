export { serveControl, queryControl, requestVerify, controlSocketPath, type ControlServer, type LiveRun, type LiveStatus } from './control.js';
