import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { diagnose } from '../../../cli/hardware/diagnose.js';
import { baseFacts, gpu, withNvidia } from '../../helpers/doctor-facts.js';
import { REPORT_KEYS } from '../../helpers/report-schema.js';

// The --json schema is documented in README ("doctor --json"); this keeps the two in step.
const readme = readFileSync('README.md', 'utf8');
const section = readme.slice(readme.indexOf('### `doctor --json`'), readme.indexOf('## Development'));

function keyNames(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keyNames(v, into));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keyNames(v, into);
    }
  }
  return into;
}

describe('the doctor --json schema in README', () => {
  // A report with every part filled in: a GPU, a toolkit-less verdict with afterFixes.
  const facts = withNvidia(baseFacts(), '550.54.15', '12.4', [gpu({ name: 'NVIDIA GeForce RTX 3060', memoryTotalMiB: 12288 })]);
  facts.adapters.adapters.push({ vendor: 'nvidia', name: 'NVIDIA GA106 [GeForce RTX 3060]', vramMiB: null });
  facts.cudaToolkit.toolkits.push({ version: '10.2', release: '10.2.89', nvcc: '/usr/local/cuda-10.2/bin/nvcc', aliases: [], root: '/usr/local/cuda-10.2', foundBy: ['search'] });
  const report = diagnose(facts, { toolVersion: '0.1.0', createdAt: '2026-01-01T00:00:00.000Z', timeoutMs: 15_000 });

  it('has exactly the documented top-level fields', () => {
    assert.notEqual(report.verdict.afterFixes, null);
    assert.deepEqual(Object.keys(report).sort(), [...REPORT_KEYS].sort());
  });

  it('documents every field name', () => {
    const missing = [...keyNames(report)].filter((k) => !new RegExp(`\\b${k}\\b`).test(section));
    assert.deepEqual(missing, []);
  });

  it('lists every finding id the code can produce', () => {
    const dir = 'cli/hardware';
    const ids = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/finding\(\s*'([a-z0-9.-]+)'/g)) ids.add(m[1]!);
    }
    assert.ok(ids.size > 30, `only ${ids.size} ids found in the source`);
    const missing = [...ids].filter((id) => !section.includes(`\`${id}\``));
    assert.deepEqual(missing, []);
  });
});
