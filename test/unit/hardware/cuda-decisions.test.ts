import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cudaToolkitAdvice } from '../../../cli/hardware/cuda-toolkit-advice.js';
import { CUDA_DOWNLOADS_URL, cudaVersionForDriver, toolkitTargetsArch, type DriverPlatform } from '../../../cli/hardware/cuda-tables.js';
import { driverSupportsToolkit, type DriverSupport } from '../../../cli/hardware/diagnose-driver.js';
import { computeCapabilityFromName } from '../../../cli/hardware/gpu-names.js';
import { compareVersions, majorMinor } from '../../../cli/hardware/versions.js';

describe('versions', () => {
  const cases: Array<[string, string, number]> = [
    ['535.129.03', '535.54.03', 1],
    ['12.4', '12.4.0', 0],
    ['12.10', '12.9', 1],
    ['580', '580.65.06', -1],
    ['3.18', '3.25.1', -1],
  ];
  for (const [a, b, sign] of cases) {
    it(`${a} vs ${b}`, () => assert.equal(Math.sign(compareVersions(a, b)), sign));
  }
  it('takes major.minor of a release', () => {
    assert.equal(majorMinor('12.4.131'), '12.4');
    assert.equal(majorMinor('V13.0.88'), '13.0');
    assert.equal(majorMinor('12'), null);
  });
});

describe('which architectures a toolkit builds for', () => {
  const cases: Array<[toolkit: string, cc: string, targets: boolean]> = [
    ['13.0', '5.0', false], // Maxwell dropped in CUDA 13
    ['13.0', '6.1', false], // Pascal too
    ['13.0', '7.0', false], // and Volta
    ['13.0', '7.5', true],
    ['13.0', '12.0', true],
    ['13.3', '5.0', false], // a newer 13.x keeps 13.0's floor
    ['13.3', '8.9', true],
    ['12.9', '5.0', true],
    ['12.9', '12.1', true],
    ['12.8', '12.1', false],
    ['12.8', '12.0', true], // RTX 50 series needs 12.8+
    ['12.6', '12.0', false],
    ['12.4', '9.0', true],
    ['12.0', '3.5', false], // Kepler dropped in CUDA 12
    ['11.8', '3.5', true],
    ['11.8', '8.9', true],
    ['11.7', '8.9', false],
    ['11.1', '8.6', true],
    ['11.0', '8.6', false],
    ['11.0', '3.0', false],
  ];
  for (const [toolkit, cc, targets] of cases) {
    it(`CUDA ${toolkit} ${targets ? 'builds' : 'cannot build'} for sm_${cc.replace('.', '')}`, () => assert.equal(toolkitTargetsArch(toolkit, cc), targets));
  }
});

describe('newest CUDA a driver runs, from the minimum-driver table', () => {
  const cases: Array<[driver: string, platform: DriverPlatform, cuda: string | null]> = [
    ['384.130', 'linux', null],
    ['470.256.02', 'linux', '11.4'],
    ['535.288.01', 'linux', '12.2'],
    ['550.54.13', 'linux', '12.3'],
    ['550.54.15', 'linux', '12.4'],
    ['575.57.08', 'linux', '12.9'],
    ['580.159.04', 'linux', '13.0'],
    ['452.06', 'windows', '11.0'],
    ['551.52', 'windows', '12.3'],
    ['551.61', 'windows', '12.4'],
    ['560.94', 'windows', '12.6'],
    ['576.02', 'windows', '12.9'],
    ['580.88', 'windows', '13.0'],
  ];
  for (const [driver, platform, cuda] of cases) {
    it(`${platform} ${driver} → ${cuda}`, () => assert.equal(cudaVersionForDriver(driver, platform), cuda));
  }
});

describe('driver too old for the toolkit', () => {
  const cases: Array<[toolkit: string, driver: string | null, cuda: string | null, platform: DriverPlatform, expected: DriverSupport]> = [
    ['12.4', '550.54.15', '12.4', 'linux', 'yes'],
    ['11.4', '550.54.15', '12.4', 'linux', 'yes'], // older toolkits always run
    ['12.9', '580.95.05', '13.0', 'linux', 'yes'],
    ['12.4', '535.288.01', '12.2', 'linux', 'minor-compat'],
    ['12.4', '535.288.01', null, 'linux', 'minor-compat'], // no banner: the table says 12.2
    ['12.4', '470.256.02', '11.4', 'linux', 'no'],
    ['12.0', '520.61.05', '11.8', 'linux', 'no'],
    ['13.0', '575.57.08', '12.9', 'linux', 'no'],
    ['13.0', '580.95.05', '13.0', 'linux', 'yes'],
    ['13.3', '580.95.05', '13.0', 'linux', 'minor-compat'],
    ['12.4', '537.13', '12.2', 'windows', 'minor-compat'],
    ['12.4', '527.41', '12.0', 'windows', 'no'], // below the 12.x minor-compat floor on Windows (528.33)
    ['12.4', null, null, 'linux', 'unknown'],
  ];
  for (const [toolkit, version, cuda, platform, expected] of cases) {
    it(`CUDA ${toolkit} on ${platform} driver ${version ?? '?'} (CUDA ${cuda ?? '?'}) → ${expected}`, () => {
      assert.equal(driverSupportsToolkit(toolkit, { version, cudaVersion: cuda }, platform), expected);
    });
  }
});

describe('which toolkit to install', () => {
  const archive = (v: string) => `https://developer.nvidia.com/cuda-${v}-download-archive`;
  const cases: Array<{ what: string; cc: string; driver: string | null; cuda: string | null; platform?: DriverPlatform; version: string | null; link?: string; newer?: string | null }> = [
    { what: '930M on R580: the last CUDA 12', cc: '5.0', driver: '580.95.05', cuda: '13.0', version: '12.9', link: archive('12-9-1'), newer: null },
    { what: '930M on R470: what the driver runs, 12.9 after an update', cc: '5.0', driver: '470.256.02', cuda: '11.4', version: '11.4', link: archive('11-4-4'), newer: '12.9' },
    { what: 'RTX 3060 on R550', cc: '8.6', driver: '550.54.15', cuda: '12.4', version: '12.4', link: archive('12-4-1'), newer: '13.0' },
    { what: 'H100 on R580', cc: '9.0', driver: '580.159.04', cuda: '13.0', version: '13.0', link: archive('13-0-2'), newer: null },
    { what: 'RTX 5090 on R570', cc: '12.0', driver: '570.86.10', cuda: '12.8', version: '12.8', newer: '13.0' },
    { what: 'RTX 5090 on R550: nothing fits this driver, so the newest (after a driver update)', cc: '12.0', driver: '550.54.15', cuda: '12.4', version: '13.0', newer: null },
    { what: 'Kepler K40 stays on CUDA 11.4 (its last driver is R470)', cc: '3.5', driver: '470.256.02', cuda: '11.4', version: '11.4', newer: null },
    { what: 'GTX 680 (sm_30): nothing builds the engine for it', cc: '3.0', driver: '470.256.02', cuda: '11.4', version: null },
    { what: 'RTX 4090 on driver 610 (CUDA 13.3, newer than the table)', cc: '8.9', driver: '610.43.02', cuda: '13.3', version: '13.3', link: CUDA_DOWNLOADS_URL, newer: null },
    { what: 'GTX 1050 with an unknown driver: the newest for its architecture', cc: '6.1', driver: null, cuda: null, version: '12.9', newer: null },
    { what: 'Windows GTX 1050 on 537.13', cc: '6.1', driver: '537.13', cuda: '12.2', platform: 'windows', version: '12.2', newer: '12.9' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const advice = cudaToolkitAdvice(c.cc, { version: c.driver, cudaVersion: c.cuda }, c.platform ?? 'linux');
      assert.equal(advice?.version ?? null, c.version);
      if (c.link) assert.equal(advice?.link, c.link);
      if (c.newer !== undefined) assert.equal(advice?.withNewerDriver?.version ?? null, c.newer);
    });
  }
  it('names the driver the newer toolkit needs', () => {
    const advice = cudaToolkitAdvice('5.0', { version: '470.256.02', cudaVersion: '11.4' }, 'windows');
    assert.deepEqual(advice?.withNewerDriver, { version: '12.9', driver: '576.02', link: archive('12-9-1') });
  });
});

describe('compute capability by name (drivers older than R510)', () => {
  const cases: Array<[string, string | null]> = [
    ['NVIDIA GeForce 930M', '5.0'],
    ['GeForce 920MX', '5.0'],
    ['GeForce 920M', '3.5'], // Kepler GK208, unlike the 920MX
    ['GeForce 940MX', '5.0'],
    ['GeForce GTX 950M', '5.0'],
    ['GeForce GTX 970M', '5.2'],
    ['NVIDIA GeForce GTX 1050', '6.1'],
    ['GeForce GTX 1050 Ti', '6.1'],
    ['GeForce MX150', '6.1'],
    ['GeForce MX130', '5.0'],
    ['GeForce GTX TITAN X', '5.2'], // Maxwell
    ['NVIDIA TITAN X (Pascal)', '6.1'],
    ['GeForce GTX 980 Ti', '5.2'],
    ['GeForce GTX 1660 SUPER', '7.5'],
    ['NVIDIA GeForce RTX 2060', '7.5'],
    ['NVIDIA GeForce RTX 2050', '8.6'], // Ampere despite the name
    ['NVIDIA GeForce RTX 3060', '8.6'],
    ['NVIDIA GeForce RTX 4090', '8.9'],
    ['NVIDIA RTX 4000 SFF Ada Generation', '8.9'],
    ['NVIDIA GeForce RTX 5090', '12.0'],
    ['Tesla K80', '3.7'],
    ['Tesla T4', '7.5'],
    ['Tesla V100-SXM2-32GB', '7.0'],
    ['NVIDIA A100-SXM4-80GB', '8.0'],
    ['NVIDIA H100 80GB HBM3', '9.0'],
    ['NVIDIA L4', '8.9'],
    ['Quadro M1000M', '5.0'],
    ['Quadro P620', '6.1'],
    ['GeForce GTX 680', '3.0'],
    ['GeForce GT 710', '3.5'],
    ['NVIDIA Graphics Device', null],
  ];
  for (const [name, cc] of cases) {
    it(`${name} → ${cc}`, () => assert.equal(computeCapabilityFromName(name), cc));
  }
});
