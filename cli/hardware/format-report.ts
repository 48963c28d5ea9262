import type { DoctorReport, Finding } from './report.js';

const ICON = { ok: '✔', warn: '⚠', error: '✖' } as const;

const SECTIONS: ReadonlyArray<readonly [string, (f: Finding) => boolean]> = [
  ['GPU', (f) => f.id.startsWith('gpu')],
  ['CUDA toolkit', (f) => f.id.startsWith('cuda')],
  ['Build tools', (f) => f.id.startsWith('build')],
  ['CPU, memory, disk', (f) => /^(cpu|memory|disk)/.test(f.id)],
];

function formatFinding(f: Finding): string[] {
  const lines = [`  ${ICON[f.severity]} ${f.message}`];
  if (f.fix) lines.push(`      → ${f.fix}`);
  if (f.link) lines.push(`        ${f.link}`);
  return lines;
}

/** The report for people: one line per finding with ✔/⚠/✖, a one-line fix under each problem. */
export function formatReport(report: DoctorReport): string {
  const lines = [`sd-setup doctor ${report.tool.version} — ${report.platform.os} ${report.platform.arch}`];
  for (const [title, belongs] of SECTIONS) {
    const items = report.findings.filter(belongs);
    if (items.length === 0) continue;
    lines.push('', title, ...items.flatMap(formatFinding));
  }
  const v = report.verdict;
  lines.push('', v.canGenerate ? `Result: ${v.summary}` : `Result: ✖ ${v.summary}`);
  if (v.canGenerate && v.engine === 'cuda' && v.nvcc) {
    lines.push(`  build with ${v.nvcc} for sm_${(v.cudaArchitectures ?? '').split(';').join(', sm_')}`);
  }
  if (v.canGenerate && v.halfPrecisionLoad) lines.push('  load the checkpoint in half precision, tensor by tensor (little RAM)');
  return `${lines.join('\n')}\n`;
}
