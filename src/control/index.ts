export { serveControl, queryControl, requestVerify, controlSocketPath, type ControlServer, type LiveStatus } from './control.js';
