import { diagnoseBuildTools } from './diagnose-build-tools.js';
import { diagnoseGpu } from './diagnose-gpu.js';
import { diagnoseCpu, diagnoseDisk, diagnoseMemory, estimateCpuSpeed } from './diagnose-host.js';
import { formatMiB } from './findings.js';
import { recommendMemoryMode } from './recommend-memory-mode.js';
import {
  SCHEMA_VERSION,
  type CpuFacts,
  type DoctorFacts,
  type DoctorReport,
  type Finding,
  type NvidiaGpu,
  type Recommendation,
  type Verdict,
} from './report.js';

export interface DiagnoseContext {
  toolVersion: string;
  createdAt: string;
  /** The probes' timeout, for messages about hung commands. */
  timeoutMs: number;
}

function modeWords(r: Recommendation): string {
  return r.mode === 'normal' ? 'normal mode' : r.mode === 'cpu' ? 'CPU mode' : `with ${r.flags.join(' ')}`;
}

function summarize(verdict: Omit<Verdict, 'summary'>, findings: Finding[], gpu: NvidiaGpu | null, cpu: CpuFacts): string {
  if (!verdict.canGenerate) {
    const blocker = findings.find((f) => f.blocks === 'everything');
    return `cannot generate yet: ${blocker?.message ?? 'see the ✖ findings'}`;
  }
  const onGpu = gpu ? `GPU ${gpu.index} (${gpu.name}${gpu.memoryTotalMiB === null ? '' : `, ${formatMiB(gpu.memoryTotalMiB)}`})` : '';
  if (verdict.engine === 'cuda') return `GPU engine on ${onGpu}, ${modeWords(verdict)}`;
  if (verdict.afterFixes) {
    return `CPU engine for now, ${estimateCpuSpeed(cpu)}; after the GPU fixes above: GPU engine on ${onGpu}, ${modeWords(verdict.afterFixes)}`;
  }
  return `CPU engine, ${estimateCpuSpeed(cpu)}`;
}

/** The whole diagnosis: findings, the engine and memory mode to use, and what fixing the GPU would give. */
export function diagnose(facts: DoctorFacts, context: DiagnoseContext): DoctorReport {
  const timeoutLabel = `${Math.round(context.timeoutMs / 100) / 10} s`;
  const gpu = diagnoseGpu({ nvidia: facts.nvidia, adapters: facts.adapters, cudaToolkit: facts.cudaToolkit, platform: facts.platform.os }, timeoutLabel);
  const ram = { ramTotalBytes: facts.memory.totalBytes, ramAvailableBytes: facts.memory.availableBytes };
  const onCuda = gpu.gpu !== null && gpu.nvcc !== null;
  const now = recommendMemoryMode({ gpu: onCuda ? { vramTotalMiB: gpu.gpu!.memoryTotalMiB } : null, ...ram });
  const recommendation: Recommendation = {
    engine: onCuda ? 'cuda' : 'cpu',
    mode: now.mode,
    flags: now.flags,
    gpuIndex: onCuda ? gpu.gpu!.index : null,
    cudaArchitectures: onCuda ? gpu.cudaArchitectures : null,
    nvcc: onCuda ? gpu.nvcc : null,
    halfPrecisionLoad: now.halfPrecisionLoad,
  };
  let afterFixes: Recommendation | null = null;
  if (!onCuda && gpu.gpu) {
    const fixed = recommendMemoryMode({ gpu: { vramTotalMiB: gpu.gpu.memoryTotalMiB }, ...ram });
    afterFixes = {
      engine: 'cuda',
      mode: fixed.mode,
      flags: fixed.flags,
      gpuIndex: gpu.gpu.index,
      cudaArchitectures: gpu.cudaArchitectures,
      nvcc: null,
      halfPrecisionLoad: fixed.halfPrecisionLoad,
    };
  }

  const findings: Finding[] = [
    ...gpu.findings,
    ...diagnoseBuildTools(facts.buildTools, facts.platform.os, facts.engine.built),
    ...diagnoseCpu(facts.cpu, !onCuda),
    ...diagnoseMemory(facts.memory, now.halfPrecisionLoad),
    ...diagnoseDisk(facts.disk),
  ];
  const canGenerate = !findings.some((f) => f.blocks === 'everything');
  const partial = { ...recommendation, canGenerate, afterFixes };
  const verdict: Verdict = {
    ...partial,
    summary: summarize(partial, findings, gpu.gpu, facts.cpu),
  };
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'sd-setup', version: context.toolVersion },
    createdAt: context.createdAt,
    platform: facts.platform,
    verdict,
    findings,
    nvidia: facts.nvidia,
    adapters: facts.adapters,
    cudaToolkit: facts.cudaToolkit,
    buildTools: facts.buildTools,
    cpu: facts.cpu,
    memory: facts.memory,
    disk: facts.disk,
    engine: facts.engine,
  };
}
