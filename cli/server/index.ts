/**
 * The web UI and AUTOMATIC1111-compatible API, for `serve`, `launch` and the
 * guided install. Everything else in cli/server/ is an implementation detail.
 */
export { startServer, DEFAULT_PORT, LOOPBACK_HOST, type RunningServer, type StartServerOptions } from './start-server.js';
export { parseApiAuth, type Credential } from './auth.js';
export { resolveServeModel } from './resolve-serve-model.js';
export type { MemoryFacts } from './memory-limits.js';
