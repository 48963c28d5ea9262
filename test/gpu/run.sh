#!/usr/bin/env bash
# GPU checks for sd-setup's CUDA backend, for a machine with an NVIDIA GPU, the
# CUDA toolkit, CMake, ninja and Python with PyTorch — no Node.js, no network.
# Everything it needs travels with the repository; the 2 GB of random SD 1.5
# weights are generated here. Results go to $OUT (default /tmp/sd-gpu):
#   log.txt                  everything printed
#   conformance-fp32.json    tiny-sd1 fixtures on CUDA, fp32 activations, manifest tolerances
#   conformance-fp16.json    the same with fp16 activations, judged by rel_l2 <= 2e-2
#   results.json             whole 512x512 generations per memory mode, UNet step timings, PyTorch
#
#   bash test/gpu/run.sh
#   STEPS="build conformance" bash test/gpu/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/sd-gpu}
STEPS=${STEPS:-"build conformance model bench torch"}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
BUILD=build/gpu
DRIVER=$BUILD/sd-driver
MODEL=${MODEL:-/tmp/sd15-random.safetensors}
WORK=$(mktemp -d)
status=0
step() { [[ " $STEPS " == *" $1 "* ]]; }
run() { echo "+ $*"; "$@" || { echo "FAILED ($?): $*"; status=1; }; }

nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv

if step build; then
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '. ')
  run cmake -S . -B $BUILD -G Ninja -DSD_CUDA=ON -DSD_CUDA_ARCHS="$arch" -DCMAKE_BUILD_TYPE=Release > "$WORK/cmake.log" || tail -20 "$WORK/cmake.log"
  run ninja -C $BUILD sd-driver > "$WORK/ninja.log" || tail -40 "$WORK/ninja.log"
fi

if step conformance; then
  # SD_CUDA_SYNC=1: a kernel fault is reported by the operation that caused it.
  SD_CUDA_SYNC=1 run $DRIVER conformance test/fixtures/tiny-sd1 --backend cuda --no-half --precision f32 --json "$OUT/conformance-fp32.json"
  SD_CUDA_SYNC=1 run $DRIVER conformance test/fixtures/tiny-sd1 --backend cuda --precision f16 --tolerance-rel 0.02 --json "$OUT/conformance-fp16.json"
  run $DRIVER conformance test/fixtures/tiny-sd1 --backend cuda --checkpoint ckpt --precision f16 --tolerance-rel 0.02 --filter sampler
fi

if step model; then
  [ -f "$MODEL" ] || run $DRIVER make-model --config sd15 --out "$MODEL" --dtype f16 > "$WORK/make-model.log"
  ls -la "$MODEL"
fi

if step bench; then
  # Whole 512x512 generations (20 steps, Euler a) per memory mode: seconds per step, peak device memory.
  for mode in normal medvram lowvram; do
    run $DRIVER generate "$MODEL" --backend cuda --mode $mode --steps 20 --size 512 --json "$WORK/generate-$mode.json"
  done
  # The UNet CFG step alone (batch 2), for the comparison with PyTorch.
  run $DRIVER bench "$MODEL" --backend cuda --mode normal --sizes 512,256 --reps 10 --skip-vae --json "$WORK/bench-normal.json"
fi

if step torch; then
  run python3 test/gpu/torch_unet.py --size 64 --json "$WORK/torch-64.json"
  run python3 test/gpu/torch_unet.py --size 32 --json "$WORK/torch-32.json"
fi

python3 - "$WORK" "$OUT/results.json" <<'PY'
import json, os, sys
work, out = sys.argv[1], sys.argv[2]
results = {}
for name in sorted(os.listdir(work)):
    if name.endswith(".json"):
        with open(os.path.join(work, name)) as f:
            results[name[:-5]] = json.load(f)
with open(out, "w") as f:
    json.dump(results, f, indent=1)
print(json.dumps(results, indent=1))
PY
echo "results in $OUT"
exit $status
