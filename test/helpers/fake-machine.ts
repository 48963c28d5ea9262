import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CMAKE_3_28, CXX_GCC_13, GNU_MAKE } from './hardware-outputs.js';
import type { DoctorReport } from '../../cli/hardware/report.js';

const QUERY_ALL = 'index,name,memory.total,memory.free,driver_version,compute_cap,pci.bus_id';
const QUERY_NO_CC = 'index,name,memory.total,memory.free,driver_version,pci.bus_id';

export interface FakeNvidiaSmi {
  banner?: string;
  /** Rows for the full query (with compute_cap). */
  query?: string;
  /** An old driver: the compute_cap field is rejected, this answers the query without it. */
  queryWithoutComputeCap?: string;
  /** Every call prints this and exits with the code (a broken driver). */
  failure?: { output: string; exitCode: number };
  /** Every call hangs this long (a wedged driver). */
  hangSeconds?: number;
}

/** Text printed verbatim by a shell script (a quoted heredoc expands nothing; /bin/cat because PATH holds only the fakes). */
function print(text: string, toStderr = false): string {
  return `/bin/cat ${toStderr ? '>&2 ' : ''}<<'SD_FAKE_EOF'\n${text.replace(/\n$/, '')}\nSD_FAKE_EOF\n`;
}

/**
 * A made-up machine for `sd-setup doctor`: a folder of fake executables (nvidia-smi, nvcc,
 * cmake, c++, make, lspci) that print what the real ones print, used as the whole PATH, plus
 * fake CUDA toolkit folders. Nothing of the real machine leaks in: PATH has only the fakes and
 * the toolkit search is pointed at our folder.
 */
export class FakeMachine {
  readonly root = mkdtempSync(join(tmpdir(), 'sd-doctor-'));
  readonly bin = join(this.root, 'bin');
  readonly toolkits = join(this.root, 'toolkits');
  readonly modelsDir = join(this.root, 'models');
  private readonly extraPath: string[] = [];

  constructor(options: { buildTools?: boolean } = {}) {
    mkdirSync(this.bin, { recursive: true });
    mkdirSync(this.toolkits, { recursive: true });
    if (options.buildTools !== false) {
      this.tool('cmake', { stdout: CMAKE_3_28 });
      this.tool('c++', { stdout: CXX_GCC_13 });
      this.tool('make', { stdout: GNU_MAKE });
    }
  }

  /** An executable printing `stdout` (and `stderr`), exiting with `exitCode`. */
  tool(name: string, out: { stdout?: string; stderr?: string; exitCode?: number }, dir = this.bin): string {
    const script = [
      '#!/bin/sh',
      out.stdout ? print(out.stdout) : '',
      out.stderr ? print(out.stderr, true) : '',
      `exit ${out.exitCode ?? 0}`,
    ].join('\n');
    return this.write(join(dir, name), script);
  }

  nvidiaSmi(fake: FakeNvidiaSmi): void {
    const lines = ['#!/bin/sh'];
    if (fake.hangSeconds) {
      lines.push(`exec /bin/sleep ${fake.hangSeconds}`);
    } else if (fake.failure) {
      lines.push(print(fake.failure.output), `exit ${fake.failure.exitCode}`);
    } else {
      lines.push('case "$*" in');
      lines.push(`'') ${print(fake.banner ?? '')} exit 0 ;;`);
      if (fake.queryWithoutComputeCap !== undefined) {
        lines.push(`--query-gpu=${QUERY_ALL}*) echo 'Field "compute_cap" is not a valid field to query.'; echo; exit 2 ;;`);
        lines.push(`--query-gpu=${QUERY_NO_CC}*) ${print(fake.queryWithoutComputeCap)} exit 0 ;;`);
      } else {
        lines.push(`--query-gpu=${QUERY_ALL}*) ${print(fake.query ?? '')} exit 0 ;;`);
      }
      // Anything else (systeminformation's own query): nothing useful, like a field it cannot read.
      lines.push('*) exit 0 ;;', 'esac');
    }
    this.write(join(this.bin, 'nvidia-smi'), lines.join('\n'));
  }

  /** A CUDA toolkit folder <toolkits>/<dir>/bin/nvcc; `onPath` also puts its bin on PATH. */
  toolkit(dir: string, nvccVersion: string, options: { onPath?: boolean } = {}): string {
    const bin = join(this.toolkits, dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const nvcc = this.write(join(bin, 'nvcc'), `#!/bin/sh\nif [ "$1" = "--version" ]; then\n${print(nvccVersion)}exit 0\nfi\nexit 1`);
    if (options.onPath) this.extraPath.push(bin);
    return nvcc;
  }

  /** Pretends the native engine is built. */
  engineBuilt(): void {
    mkdirSync(join(this.root, 'engine'), { recursive: true });
    writeFileSync(join(this.root, 'engine', 'sd_engine.node'), '');
  }

  lspci(output: string): void {
    this.tool('lspci', { stdout: output });
  }

  /** The whole environment doctor sees. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      PATH: [...this.extraPath, this.bin].join(':'),
      HOME: this.root,
      LANG: 'C.UTF-8',
      SD_SETUP_CUDA_SEARCH_PATH: this.toolkits,
      // No engine built yet, whatever this checkout holds.
      SD_SETUP_ADDON: join(this.root, 'engine', 'sd_engine.node'),
      ...extra,
    };
  }

  /** Runs the built CLI as a subprocess: `node dist/cli/main.js doctor --json`. */
  runDoctorJson(extraEnv: NodeJS.ProcessEnv = {}): { code: number | null; report: DoctorReport; stderr: string; ms: number } {
    const started = Date.now();
    const result = spawnSync(process.execPath, ['dist/cli/main.js', 'doctor', '--json', '--models-dir', this.modelsDir], {
      env: this.env(extraEnv),
      encoding: 'utf8',
      timeout: 60_000,
    });
    const ms = Date.now() - started;
    let report: DoctorReport;
    try {
      report = JSON.parse(result.stdout) as DoctorReport;
    } catch {
      throw new Error(`doctor did not print JSON (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
    }
    return { code: result.status, report, stderr: result.stderr, ms };
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private write(file: string, content: string): string {
    writeFileSync(file, `${content}\n`);
    chmodSync(file, 0o755);
    return file;
  }
}

export function findingIds(report: DoctorReport): string[] {
  return report.findings.map((f) => f.id);
}

export function findingById(report: DoctorReport, id: string) {
  const found = report.findings.find((f) => f.id === id);
  if (!found) throw new Error(`no finding ${id}; findings: ${findingIds(report).join(', ')}`);
  return found;
}
