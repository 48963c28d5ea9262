import { finding } from './findings.js';
import { MIN_COMPILER } from './probe-cxx-compiler.js';
import type { Blocks, BuildToolFacts, Finding, Severity } from './report.js';
import { versionAtLeast } from './versions.js';

/** The engine's CMakeLists.txt says cmake_minimum_required(VERSION 3.18) (cmake-js itself needs 3.15). */
export const MIN_CMAKE = '3.18';
export const MIN_NODE = '20.18';

const VS_BUILD_TOOLS_URL = 'https://visualstudio.microsoft.com/visual-cpp-build-tools/';
const CMAKE_URL = 'https://cmake.org/download/';

function installHint(platform: NodeJS.Platform, what: 'cmake' | 'compiler' | 'runner'): { fix: string; link: string | null } {
  if (platform === 'win32') {
    return what === 'cmake'
      ? { fix: 'install CMake (cmake.org, tick "add to PATH") and open a new terminal', link: CMAKE_URL }
      : { fix: 'install Visual Studio 2022 Build Tools with "Desktop development with C++"', link: VS_BUILD_TOOLS_URL };
  }
  if (platform === 'darwin') {
    return what === 'cmake' ? { fix: 'brew install cmake', link: CMAKE_URL } : { fix: 'xcode-select --install', link: null };
  }
  const apt = { cmake: 'cmake', compiler: 'build-essential', runner: 'build-essential' }[what];
  return { fix: `sudo apt install ${apt} (Debian/Ubuntu; other distributions: their ${what === 'cmake' ? 'cmake' : 'gcc-c++ and make'} packages)`, link: what === 'cmake' ? CMAKE_URL : null };
}

/**
 * Can this machine build the engine? Missing tools block everything, unless the engine is
 * already built: then they are only needed to rebuild it.
 */
export function diagnoseBuildTools(tools: BuildToolFacts, platform: NodeJS.Platform, engineBuilt: boolean): Finding[] {
  const findings: Finding[] = [];
  const severity: Severity = engineBuilt ? 'warn' : 'error';
  const blocks: Blocks = engineBuilt ? 'nothing' : 'everything';
  const already = engineBuilt ? ' (the engine is already built; needed to rebuild it)' : '';

  const { cmake, compiler, buildRunner, node } = tools;
  if (!cmake.found) {
    const { fix, link } = installHint(platform, 'cmake');
    findings.push(finding('build.cmake-missing', severity, blocks, `CMake not found: it builds the engine${already}`, fix, link));
  } else if (!cmake.version || !versionAtLeast(cmake.version, MIN_CMAKE)) {
    const { fix, link } = installHint(platform, 'cmake');
    findings.push(finding('build.cmake-too-old', severity, blocks, `CMake ${cmake.version ?? '(version unknown)'} at ${cmake.path}: the engine needs ${MIN_CMAKE} or newer${already}`, fix, link));
  } else {
    findings.push(finding('build.cmake', 'ok', 'nothing', `CMake ${cmake.version} (${cmake.path})`));
  }

  const minimum = compiler.kind && compiler.kind !== 'unknown' ? MIN_COMPILER[compiler.kind] : null;
  const name = compiler.kind === 'msvc' ? 'MSVC' : (compiler.kind ?? 'C++ compiler');
  if (!compiler.found) {
    const { fix, link } = installHint(platform, 'compiler');
    findings.push(finding('build.compiler-missing', severity, blocks, `no C++17 compiler found${platform === 'win32' ? ' (Visual Studio with the C++ tools)' : ' (g++ or clang++)'}${already}`, fix, link));
  } else if (!compiler.cpp17) {
    const { fix, link } = installHint(platform, 'compiler');
    const why = minimum ? `needs ${name} ${minimum} or newer for C++17` : 'cannot tell its version';
    findings.push(finding('build.compiler-too-old', severity, blocks, `${name} ${compiler.version ?? ''} at ${compiler.path}: the engine ${why}${already}`, fix, link));
  } else {
    findings.push(finding('build.compiler', 'ok', 'nothing', `${name} ${compiler.version} (${compiler.path}), C++17`));
  }

  if (!buildRunner.found) {
    const { fix, link } = installHint(platform, 'runner');
    findings.push(finding('build.runner-missing', severity, blocks, `neither make nor ninja found: CMake needs one to run the build${already}`, fix, link));
  } else if (buildRunner.path) {
    findings.push(finding('build.runner', 'ok', 'nothing', `${buildRunner.name} ${buildRunner.version ?? ''} (${buildRunner.path})`.replace('  ', ' ')));
  }

  if (!versionAtLeast(node.version, MIN_NODE)) {
    findings.push(finding('build.node-too-old', 'error', 'everything', `Node.js ${node.version} is older than ${MIN_NODE}`, 'install Node.js 20.18 or newer (nodejs.org)', 'https://nodejs.org/'));
  } else {
    findings.push(finding('build.node', 'ok', 'nothing', `Node.js ${node.version}`));
  }
  return findings;
}
