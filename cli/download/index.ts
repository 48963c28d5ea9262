/**
 * The download API the CLI command and the guided install share.
 * Everything else in cli/download/ is an implementation detail.
 */
export { downloadModel, defaultTimeouts } from './download-model.js';
export type { DownloadEvent, DownloadHooks, DownloadModelOptions, DownloadResult, DownloadTimeouts } from './download-model.js';
export type { DownloadProgress } from './progress-meter.js';
export { DownloadError, type DownloadErrorCode } from './download-error.js';
export { findModel, loadCatalogue, modelUrl, type CatalogueModel, type BundledAsset, type Catalogue } from './catalogue.js';
export { modelsDir, sdSetupHome } from './models-dir.js';
export { resolveHfToken, hfTokenPath } from './hf-token.js';
export { isStillVerified, readVerifiedRecord } from './verified-record.js';
