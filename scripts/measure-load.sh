#!/usr/bin/env bash
# Measures loading a full-size SD 1.5 checkpoint into an fp16 weight store:
# wall time and peak RSS (getrusage ru_maxrss and /proc/self/status VmHWM)
# for a random-weight fp32 .ckpt (4.3 GB, the size of sd-v1-4.ckpt) and an
# fp16 .safetensors (2.1 GB). The files are written under a temporary folder
# (default /tmp) and deleted afterwards; nothing goes into the repository.
#
#   scripts/measure-load.sh [TMPDIR]      (needs build/native/sd-driver: npm run build:native)
#
# Before each load the file's pages are dropped from the page cache where the
# system allows it (dd iflag=nocache), so the numbers are closer to a cold start.
set -euo pipefail

driver="${SD_DRIVER:-build/native/sd-driver}"
base="${1:-/tmp}"
[ -x "$driver" ] || { echo "error: $driver is not built (npm run build:native)" >&2; exit 1; }
need_kb=$((7 * 1024 * 1024))
free_kb=$(df -Pk "$base" | awk 'NR == 2 { print $4 }')
if [ "$free_kb" -lt "$need_kb" ]; then
  echo "error: $base has $((free_kb / 1024)) MB free; the two checkpoints need about 6.5 GB" >&2
  exit 1
fi
dir="$(mktemp -d "$base/sd-measure-load.XXXXXX")"
trap 'rm -rf "$dir"' EXIT INT TERM

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GB RAM", $2 / 1048576 }' /proc/meminfo)"
"$driver" make-model --config sd15 --format ckpt --dtype f32 --out "$dir/sd15-fp32.ckpt" 2>/dev/null
"$driver" make-model --config sd15 --format safetensors --dtype f16 --out "$dir/sd15-fp16.safetensors" 2>/dev/null
ls -l "$dir"

for file in "$dir/sd15-fp32.ckpt" "$dir/sd15-fp16.safetensors"; do
  dd if="$file" iflag=nocache count=0 status=none 2>/dev/null || true
  echo "== load $(basename "$file") into an fp16 store (cold cache where possible)"
  "$driver" load "$file" --dtype f16 --report
  echo "== again, warm page cache"
  "$driver" load "$file" --dtype f16 --report
done
