#!/usr/bin/env bash
# Every GPU check of the project in one run (under 10 minutes on one H100/H200):
# the `pytest -m gpu` suite (every model's float32 one-step parity with and
# without CuPy's CUB reductions, float64 trajectories, train/sample/convert on
# @cupy:0 and cuda), then the GPU benchmark. Needs only the repository and a
# Chainer 7.8.1 wheel in the carry folder (the machine needs no package index);
# Python with PyTorch (CUDA), CuPy, NumPy, Pillow and tqdm must be there.
#
#   scripts/gpu_checks.sh [--carry DIR] [--out DIR] [--no-benchmark]
#
# Results go to --out (default $OUT, else runs/gpu-checks): summary.txt,
# gpu_tests.log, benchmark-gpu.log, benchmark-gpu.json, nvidia-smi.txt.
# Paths are relative to the repository root. Without a GPU it says so,
# writes summary.txt and exits 0.
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
fail() { echo "error: $*" >&2; exit 1; }

cd "$(dirname "$0")/.." || exit 1
carry=gpu_carry
out=${OUT:-runs/gpu-checks}
benchmark=1
while [ $# -gt 0 ]; do
    case "$1" in
        --carry) [ $# -ge 2 ] || fail "--carry needs a folder, e.g. --carry gpu_carry"; carry=$2; shift 2 ;;
        --out) [ $# -ge 2 ] || fail "--out needs a folder, e.g. --out runs/gpu-checks"; out=$2; shift 2 ;;
        --no-benchmark) benchmark=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown option '$1'; use --carry DIR, --out DIR, --no-benchmark or --help" ;;
    esac
done

python=${PYTHON:-python3}
wheel=$(ls "$carry"/chainer-7.8.1-*.whl 2>/dev/null | head -n 1)
[ -n "$wheel" ] || fail "no Chainer 7.8.1 wheel in $carry/; build it where pip works: PIP_CONSTRAINT=constraints.txt pip wheel --no-deps chainer==7.8.1 -w $carry/"
mkdir -p "$out" || fail "cannot create --out $out; pass a writable folder"
summary="$out/summary.txt"

if ! "$python" -c 'import cupy, torch, sys; sys.exit(0 if torch.cuda.is_available() and cupy.cuda.runtime.getDeviceCount() > 0 else 1)' 2>/dev/null; then
    echo "skipped: no GPU here (PyTorch's CUDA and CuPy must both see one); nothing was run" | tee "$summary"
    exit 0
fi

site=$(mktemp -d /tmp/gpu_checks_site.XXXXXX)
"$python" -m pip install -q --no-index --no-deps --no-compile --target "$site" "$wheel" || fail "could not install $wheel"
export PYTHONPATH="$PWD:$site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
"$python" - <<'PY' | tee "$summary"
import chainer_impl  # noqa: F401
import chainer, cupy, numpy, torch
from chainer.backends import cuda
from cupy._core import _accelerator
print(f'GPU: {torch.cuda.get_device_name(0)}; PyTorch {torch.__version__} (CUDA {torch.version.cuda}), '
      f'CuPy {cupy.__version__}, Chainer {chainer.__version__}, NumPy {numpy.__version__}')
print(f'Chainer: cuda.available {cuda.available}, cudnn_enabled {cuda.cudnn_enabled}; '
      f'CuPy reduction accelerators (CUPY_ACCELERATORS) {_accelerator.get_reduction_accelerators()}')
PY

started=$SECONDS
timeout 330 "$python" -m pytest -m gpu parity_tests -q -rs -s -p no:cacheprovider 2>&1 | tee "$out/gpu_tests.log"
tests=${PIPESTATUS[0]}
echo "gpu tests: exit $tests in $((SECONDS - started)) s" | tee -a "$summary"
grep -E "max \|chainer - torch\||CuPy accelerators|passed|failed|error" "$out/gpu_tests.log" >> "$summary"

status=$tests
if [ "$benchmark" = 1 ]; then
    started=$SECONDS
    timeout 220 "$python" -m ganport.commands.benchmark --device cuda --tuned torch-channels-last \
        --json "$out/benchmark-gpu.json" 2>&1 | tr '\r' '\n' | grep -v 'it/s]\|s/it]' | tee "$out/benchmark-gpu.log"
    bench=${PIPESTATUS[0]}
    echo "gpu benchmark: exit $bench in $((SECONDS - started)) s" | tee -a "$summary"
    sed -n '/^case /,$p' "$out/benchmark-gpu.log" >> "$summary"
    [ "$bench" = 0 ] || status=$bench
fi
exit "$status"
