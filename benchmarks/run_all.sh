#!/usr/bin/env bash
# Reproduce every figure of RESULTS.md in one run: dpsynth's generators and the peers on the
# same split, then the samplers, calibration and counting micro-benchmarks. Outputs go to
# benchmarks/out/ (ignored by git). Peers need benchmarks/setup_peers.sh once.
#   bash benchmarks/run_all.sh [EPSILONS] [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
epsilons=${1:-0.3,1,3,10}
seeds=${2:-1}
mkdir -p benchmarks/out
py=.venv/bin/python
$py benchmarks/bench_mst.py --epsilons "$epsilons" --seeds "$seeds" --out benchmarks/out/mst.json | tee benchmarks/out/mst.md
$py benchmarks/bench_privbayes.py --epsilons "$epsilons" --seeds "$seeds" --out benchmarks/out/privbayes.json | tee benchmarks/out/privbayes.md
$py benchmarks/bench_aim.py --epsilons "$epsilons" --seeds "$seeds" --out benchmarks/out/aim.json | tee benchmarks/out/aim.md
if [ -x benchmarks/.peer-env/bin/python ]; then
  benchmarks/.peer-env/bin/python benchmarks/peers.py --epsilons "$epsilons" --seeds "$seeds" \
    --out benchmarks/out/peers.json | tee benchmarks/out/peers.md
fi
$py benchmarks/bench_samplers.py | tee benchmarks/out/samplers.md
$py benchmarks/bench_calibrate.py | tee benchmarks/out/calibrate.md
$py benchmarks/bench_counting.py | tee benchmarks/out/counting.md
