/**
 * What other commands use from the diagnosis: the guided install and `launch` call
 * runDiagnosis() and read the verdict; the pure decisions are exported for their own checks.
 */
export { runDiagnosis, type DiagnosisOptions } from './run-diagnosis.js';
export { diagnose } from './diagnose.js';
export { formatReport } from './format-report.js';
export { recommendMemoryMode, VRAM_THRESHOLDS_MIB, type MemoryModeChoice } from './recommend-memory-mode.js';
export { cudaToolkitAdvice, type ToolkitAdvice } from './cuda-toolkit-advice.js';
export { driverSupportsToolkit } from './diagnose-driver.js';
export * from './report.js';
