export interface BuildProgress {
  phase: 'configure' | 'compile';
  /** 0-100 when the build tool says how far it is; undefined while configuring or under MSBuild. */
  percent: number | undefined;
  /** "[12/61]" counts (ninja). */
  done?: number;
  total?: number;
  /** What it is doing now: "compiling native/model/unet.cpp", "linking sd_engine.node". */
  activity: string;
}

const NINJA = /^\[(\d+)\/(\d+)\]\s+(.*)$/;
const MAKE = /^\[\s*(\d{1,3})%\]\s+(.*)$/;
// CMake's rule descriptions: "Building CXX object CMakeFiles/sd_engine_core.dir/native/model/unet.cpp.o".
const OBJECT = /^Building (?:CXX|CUDA|C) object (?:.*?\.dir\/)?(.+?)\.(?:o|obj)$/;
const LINK = /^Linking \w+ (?:shared module|shared library|static library|executable) (.+)$/;
// MSBuild echoes each compiled file name alone on an indented line.
const MSBUILD_FILE = /^\s+([\w.-]+\.(?:cpp|cu|cc))$/;

/** Turns "Building CXX object ...dir/native/x.cpp.o" into "compiling native/x.cpp". */
function describe(rule: string): string {
  const object = OBJECT.exec(rule);
  if (object) return `compiling ${object[1]}`;
  const link = LINK.exec(rule);
  if (link) return `linking ${link[1]!.split(/[\\/]/).pop()}`;
  return rule;
}

/**
 * Reads one line of cmake-js output and says how far the build is, or undefined
 * when the line says nothing about progress. Ninja prints "[n/m] rule" (exact
 * counts), make "[ nn%] rule", MSBuild only file names.
 */
export function parseBuildLine(line: string): BuildProgress | undefined {
  const text = line.replace(/\r$/, '');
  const ninja = NINJA.exec(text);
  // CMake's glob re-check runs as its own tiny ninja invocation ("[0/2] Re-checking globbed directories..."): not the build's progress.
  if (ninja && /^Re-checking globbed/.test(ninja[3]!)) return { phase: 'configure', percent: undefined, activity: 'checking for changed sources' };
  if (ninja) {
    const done = Number(ninja[1]);
    const total = Number(ninja[2]);
    return { phase: 'compile', percent: total > 0 ? Math.floor((done / total) * 100) : undefined, done, total, activity: describe(ninja[3]!) };
  }
  const make = MAKE.exec(text);
  if (make) return { phase: 'compile', percent: Math.min(100, Number(make[1])), activity: describe(make[2]!) };
  const msbuild = MSBUILD_FILE.exec(text);
  if (msbuild) return { phase: 'compile', percent: undefined, activity: `compiling ${msbuild[1]}` };
  if (/^-- (The CXX compiler identification|Detecting CXX|Looking for|Performing Test|Check for working)/.test(text)) {
    return { phase: 'configure', percent: undefined, activity: 'checking the compiler' };
  }
  if (/^-- (The CUDA compiler identification|Detecting CUDA)/.test(text)) return { phase: 'configure', percent: undefined, activity: 'checking the CUDA compiler' };
  if (/^-- (Configuring done|Generating done|Build files have been written)/.test(text)) {
    return { phase: 'configure', percent: undefined, activity: 'configured' };
  }
  return undefined;
}
