#!/usr/bin/env bash
# Create the benchmark environments of the peers, beside (never inside) dpsynth's own, under
# benchmarks/.peer-env/ (ignored by git). Their pins clash (opendp, disjoint-set, numpy,
# pandas), so each peer family has its own venv. torch is installed first from the CPU wheel,
# before opacus. See benchmarks/peers.py for how each one is run.
set -euo pipefail
cd "$(dirname "$0")"
PGM_COMMIT=4d2b3c566b148da3ef800ce76e6189c548f2da22  # private-pgm, 2025-08-08 (peers.PGM_COMMIT)
# Where to clone private-pgm from: a local mirror on a machine that cannot reach GitHub.
PGM_REPO=${PGM_REPO:-https://github.com/ryan112358/private-pgm}

python3 -m venv .peer-env
.peer-env/bin/pip install --quiet dpmm==0.1.9

python3 -m venv .peer-env/snsynth
.peer-env/snsynth/bin/pip install --quiet torch==2.13.0
.peer-env/snsynth/bin/pip install --quiet smartnoise-synth==1.0.8 packaging  # DP-CTGAN imports packaging, which the wheel does not declare

# private-pgm: the mbi package from PyPI, and its mechanisms (MST, AIM), which are not in the
# wheel, from the repository's mechanisms/ folder at a pinned commit. Those mechanisms call
# mbi 1.x's API (estimation.mirror_descent, a pandas-backed Dataset); mbi 2.0.0 replaced both,
# so they run unchanged on 1.1.0, the release they were written against. They also import matplotlib
# and pandas (before 3.0: its mapped columns come back as objects, which mbi refuses), which
# mbi does not require.
python3 -m venv .peer-env/pgm-venv
.peer-env/pgm-venv/bin/pip install --quiet mbi==1.1.0 "pandas<3" matplotlib
# The same mechanisms on mbi 2.0.0 (the release the issue measured), in a venv of their own:
# peers.py patches the few 1.x names they call onto 2.0.0's API at run time (_pgm2_data).
python3 -m venv .peer-env/pgm2-venv
.peer-env/pgm2-venv/bin/pip install --quiet mbi==2.0.0 "pandas<3" matplotlib
rm -rf .peer-env/pgm && mkdir -p .peer-env/pgm
git clone --quiet "$PGM_REPO" .peer-env/pgm/repo
git -C .peer-env/pgm/repo checkout --quiet "$PGM_COMMIT"
cp -r .peer-env/pgm/repo/mechanisms .peer-env/pgm/mechanisms

python3 -m venv .peer-env/datasynth
.peer-env/datasynth/bin/pip install --quiet DataSynthesizer==0.1.13

# SDMetrics, to check dpsynth's column-shape and pair-trend scores (bench_quality_agreement.py).
python3 -m venv .peer-env/sdmetrics
.peer-env/sdmetrics/bin/pip install --quiet sdmetrics==0.32.0 "pandas<3"

# SDV, the non-private reference of the raw-table benchmark (bench_raw_peers.py). torch first,
# from the CPU wheel: SDV's neural synthesizers pull it in, and pip must not resolve another.
python3 -m venv .peer-env/sdv
.peer-env/sdv/bin/pip install --quiet torch==2.13.0
.peer-env/sdv/bin/pip install --quiet sdv==2.0.0
