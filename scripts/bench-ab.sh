#!/usr/bin/env bash
# Interleaved CPU benchmark of two engines: the sources at git revision BASE
# against the working tree, both built here (CPU only, Release), run in turn
# ROUNDS times with 2 threads on 2 pinned cores, so both see the same minutes
# of a noisy machine. Prints each run's summary lines and writes every run's
# JSON into OUT/all.json.
#
#   scripts/bench-ab.sh BASE MODEL [OUT]
#   ROUNDS=3 SIZES=512,256 REPS=3 PRECISION=f16 scripts/bench-ab.sh b7c70f2 /tmp/sd15.safetensors
#
# MODEL is created (full-size random SD 1.5, fp16) if it does not exist.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,10p "$0"; exit 2; }
BASE=$1 MODEL=$2 OUT=${3:-/tmp/bench-ab}
ROUNDS=${ROUNDS:-2} SIZES=${SIZES:-512,256} REPS=${REPS:-3} PRECISION=${PRECISION:-f16}
cd "$(dirname "$0")/.."
WORK=build/bench-ab
mkdir -p "$OUT" "$WORK"
rm -rf "$WORK/base-src" && mkdir -p "$WORK/base-src"
git archive "$BASE" CMakeLists.txt native | tar -x -C "$WORK/base-src"
build() {
  cmake -S "$1" -B "$2" -G Ninja -DSD_CUDA=OFF -DCMAKE_BUILD_TYPE=Release > "$2.cmake.log" 2>&1
  ninja -C "$2" sd-driver > "$2.ninja.log" 2>&1 || { tail -30 "$2.ninja.log"; exit 1; }
}
echo "building $BASE and the working tree..."
build "$WORK/base-src" "$WORK/base"
build . "$WORK/new"
[ -f "$MODEL" ] || "$WORK/new/sd-driver" make-model --config sd15 --out "$MODEL" --dtype f16 > /dev/null
# Cores 2 and 3 where there are more than 2, away from the system's own work on core 0.
CORES=$([ "$(nproc)" -ge 4 ] && echo 2,3 || echo 0,1)
for i in $(seq 1 "$ROUNDS"); do
  for v in base new; do
    echo "=== $v ($([ $v = base ] && echo "$BASE" || echo "working tree")), round $i"
    SD_THREADS=2 taskset -c "$CORES" "$WORK/$v/sd-driver" bench "$MODEL" --sizes "$SIZES" --reps "$REPS" \
      --precision "$PRECISION" --json "$OUT/$v-$i.json" 2>&1 | grep -E "peak \(|s \(median|ceiling|vae decode|executed|peak RSS|load:"
  done
done
node -e '
const fs = require("fs"), path = require("path"), out = process.argv[1], all = {};
for (const f of fs.readdirSync(out).filter((f) => /^(base|new)-\d+\.json$/.test(f)).sort())
  all[f.slice(0, -5)] = JSON.parse(fs.readFileSync(path.join(out, f), "utf8"));
fs.writeFileSync(path.join(out, "all.json"), JSON.stringify(all, null, 1) + "\n");
console.log(`runs in ${path.join(out, "all.json")}`);' "$OUT"
