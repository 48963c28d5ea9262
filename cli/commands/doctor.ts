import { stringOption, booleanOption } from '../args.js';
import { defineCommand } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatReport } from '../hardware/format-report.js';
import { runDiagnosis, TIMEOUT_ENV } from '../hardware/run-diagnosis.js';
import { SEARCH_PATH_ENV } from '../hardware/probe-cuda-toolkits.js';
import { resolve } from 'node:path';

export const doctorCommand = defineCommand({
  name: 'doctor',
  summary: 'diagnose GPU, driver, CUDA toolkit, compiler, RAM and disk; recommend a memory mode',
  details: `
Checks the NVIDIA GPU and driver (nvidia-smi), other graphics adapters, the CUDA toolkits
(nvcc), CMake, the C++17 compiler, Node.js, the CPU (cores, AVX2/AVX-512), RAM and the free
disk where models go. Then says which engine to build (CUDA or CPU), with which toolkit, and
the memory mode: normal, --medvram, --lowvram or CPU. Each problem gets a one-line fix.
Every command it runs has a timeout: a missing, broken or hung driver is reported, not fatal.

Exit code: 0 when this machine can generate images (even if only on the CPU), 1 when
something blocks generating at all (no compiler or CMake, too little RAM or disk space),
2 for wrong options.

Environment: ${TIMEOUT_ENV} (milliseconds per command, default 15000),
${SEARCH_PATH_ENV} (folders searched for CUDA toolkits instead of the usual ones).`,
  options: {
    json: { type: 'boolean', description: 'print the report as JSON (stable schema, see README "doctor --json")' },
    'models-dir': { type: 'string', valueName: 'DIR', description: 'where models go, for the disk check (default ~/sd-setup/models)' },
  },
  examples: ['sd-setup doctor', 'sd-setup doctor --json', 'sd-setup doctor --models-dir /mnt/big/models'],
  async run({ values, io }) {
    const modelsDir = stringOption(values, 'models-dir');
    if (modelsDir !== undefined && modelsDir.trim() === '') throw new UsageError('--models-dir needs a folder');
    const report = await runDiagnosis({ env: io.env, ...(modelsDir ? { modelsDir: resolve(io.cwd, modelsDir) } : {}) });
    io.out(booleanOption(values, 'json') ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.verdict.canGenerate ? ExitCode.ok : ExitCode.failure;
  },
});
