export { serveControl, queryControl, controlSocketPath, type ControlServer, type LiveStatus } from './control.js';
