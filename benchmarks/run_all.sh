#!/usr/bin/env bash
# Reproduce every figure of RESULTS.md in one run: dpsynth's marginal generators and their
# peers on the same split (each run in its own process, one at a time), then the samplers,
# calibration and counting micro-benchmarks. The marginal generators' rows are averaged into
# benchmarks/results/marginal.csv and RESULTS.md's tables rewritten from the committed rows
# (benchmarks/report_marginal.py, then benchmarks/report.py); the other benchmarks print their
# rows, which go into their CSV under benchmarks/results/ before `python benchmarks/report.py`.
# Outputs go to benchmarks/out/ (ignored by git). Peers need benchmarks/setup_peers.sh once.
#   bash benchmarks/run_all.sh [EPSILONS] [SEEDS]      (defaults: 0.3,1,3,10 and 0,1,2)
# The full peer grid is long: private-pgm's AIM is capped at 25 minutes a run on mbi 1.1.0
# and 60 on mbi 2.0.0 (about 21 minutes at epsilon 1), DataSynthesizer at 30 (a run past its
# cap is reported as "did not finish"), and dpmm's and smartnoise's AIM take 10-25 minutes a
# run on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
epsilons=${1:-0.3,1,3,10}
seeds=${2:-0,1,2}
count=$(echo "$seeds" | tr ',' '\n' | wc -l)
mkdir -p benchmarks/out
# private-pgm's AIM on mbi 2.0.0 maps each program JAX compiles on its own: it needed over
# 220,000 memory maps in 26 minutes, and aborts at the kernel's default limit of 65,530.
if [ "$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 0)" -lt 1000000 ]; then
  echo "note: vm.max_map_count is below 1,000,000: private-pgm's AIM will abort when it reaches it" \
    "(as root: sysctl -w vm.max_map_count=4194304)" >&2
fi
py=.venv/bin/python
$py benchmarks/bench_aim.py --epsilons "$epsilons" --seeds "$count" --methods aim,mst --out benchmarks/out/aim.json | tee benchmarks/out/aim.md
$py benchmarks/bench_privbayes.py --epsilons "$epsilons" --seeds "$count" --out benchmarks/out/privbayes.json | tee benchmarks/out/privbayes.md
if [ -x benchmarks/.peer-env/bin/python ]; then
  rm -f benchmarks/out/peers-rows.jsonl
  $py benchmarks/peers.py --epsilons "$epsilons" --seeds "$seeds" \
    --out benchmarks/out/peers-rows.jsonl | tee benchmarks/out/peers.md
fi
$py benchmarks/report_marginal.py
$py benchmarks/bench_stopping.py | tee benchmarks/out/stopping.md
$py benchmarks/bench_samplers.py | tee benchmarks/out/samplers.md
$py benchmarks/bench_calibrate.py | tee benchmarks/out/calibrate.md
$py benchmarks/bench_counting.py | tee benchmarks/out/counting.md
# The attack suite (issue 6), the neural and hybrid generators beside DP-CTGAN (issue 5; bench_neural
# drives peers_neural.py in the smartnoise venv itself), and the comparison sweep (issue 7). These
# write their figures to benchmarks/out/; their rows go into benchmarks/results/ as above.
$py benchmarks/bench_audit.py --out benchmarks/out/audit.json | tee benchmarks/out/audit.md
$py benchmarks/bench_neural.py --out benchmarks/out/neural.json | tee benchmarks/out/neural.md
$py benchmarks/bench_compare.py --methods mst,aim,privbayes,neural,hybrid --out benchmarks/out/compare | tee benchmarks/out/compare.md
# dpsynth's column-shape and pair-trend scores beside SDMetrics' QualityReport (issue 20), in its venv.
$py benchmarks/bench_quality_agreement.py | tee benchmarks/out/quality_agreement.csv
