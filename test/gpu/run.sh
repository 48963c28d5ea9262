#!/usr/bin/env bash
# GPU checks for sd-setup's CUDA backend, for a machine with an NVIDIA GPU, the
# CUDA toolkit, CMake, ninja and Python with PyTorch — no Node.js, no network.
# Everything it needs travels with the repository; the 2 GB of random SD 1.5
# weights are generated here. Results go to $OUT (default /tmp/sd-gpu).
#
#   bash test/gpu/run.sh            # all steps
#   STEPS="build conformance" bash test/gpu/run.sh
#
# Steps:
#   build        CUDA engine + sd-driver for this GPU's architecture
#   conformance  tiny-sd1 fixtures on the CUDA backend: fp32 (manifest tolerances) and fp16 (rel_l2 <= 2e-2)
#   model        full-size SD 1.5 random weights (fp16 safetensors)
#   bench        UNet CFG step / VAE decode / peak device memory in normal, medvram, lowvram
#   torch        the same UNet shapes in plain PyTorch fp16 on the same GPU
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/sd-gpu}
STEPS=${STEPS:-"build conformance model bench torch"}
mkdir -p "$OUT"
BUILD=build/gpu
DRIVER=$BUILD/sd-driver
MODEL=${MODEL:-/tmp/sd15-random.safetensors}
status=0
step() { [[ " $STEPS " == *" $1 "* ]]; }
run() { echo "+ $*"; "$@" || { echo "FAILED ($?): $*"; status=1; }; }

nvidia-smi | tee "$OUT/nvidia-smi.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv | tee "$OUT/gpu.csv"

if step build; then
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '. ')
  run cmake -S . -B $BUILD -G Ninja -DSD_CUDA=ON -DSD_CUDA_ARCHS="$arch" 2>&1 | tail -3
  run ninja -C $BUILD sd-driver 2>&1 | tail -3
fi

if step conformance; then
  run $DRIVER conformance test/fixtures/tiny-sd1 --backend cuda --no-half --precision f32 --json "$OUT/conformance-cuda-fp32.json" | tee "$OUT/conformance-cuda-fp32.txt"
  run $DRIVER conformance test/fixtures/tiny-sd1 --backend cuda --precision f16 --tolerance-rel 0.02 --json "$OUT/conformance-cuda-fp16.json" | tee "$OUT/conformance-cuda-fp16.txt"
  run $DRIVER conformance test/fixtures/tiny-sd1 --backend cuda --checkpoint ckpt --precision f16 --tolerance-rel 0.02 | tail -1
fi

if step model; then
  [ -f "$MODEL" ] || run $DRIVER make-model --config sd15 --out "$MODEL" --dtype f16
  ls -la "$MODEL"
fi

if step bench; then
  # Whole 512x512 generations (20 steps, Euler a): seconds per step and peak device memory per mode.
  for mode in normal medvram lowvram; do
    run $DRIVER generate "$MODEL" --backend cuda --mode $mode --steps 20 --size 512 --json "$OUT/generate-$mode.json" 2>&1 | tail -2 | tee -a "$OUT/generate.txt"
  done
  # The UNet step alone (batch 2 = one CFG step), for the comparison with PyTorch.
  run $DRIVER bench "$MODEL" --backend cuda --mode normal --sizes 512,256 --reps 10 --json "$OUT/bench-normal.json" 2>&1 | tee "$OUT/bench-normal.txt"
fi

if step torch; then
  run python3 test/gpu/torch_unet.py --size 64 --json "$OUT/torch.json" 2>&1 | tee "$OUT/torch.txt"
fi

echo "results in $OUT"; ls -la "$OUT"
exit $status
