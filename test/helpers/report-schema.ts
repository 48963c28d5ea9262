/** The top-level keys of the doctor --json report, as README's "doctor --json" section documents them. */
export const REPORT_KEYS = [
  'schemaVersion',
  'tool',
  'createdAt',
  'platform',
  'verdict',
  'findings',
  'nvidia',
  'adapters',
  'cudaToolkit',
  'buildTools',
  'cpu',
  'memory',
  'disk',
  'engine',
] as const;
