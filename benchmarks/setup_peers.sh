#!/usr/bin/env bash
# Create the benchmark environments of the peers, beside (never inside) dpsynth's own.
# dpmm and smartnoise-synth pin conflicting versions of opendp and disjoint-set, so each
# has its own venv. torch is installed first from the CPU wheel on disk, before opacus.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .peer-env
.peer-env/bin/pip install --quiet dpmm==0.1.9
python3 -m venv .peer-env/snsynth
.peer-env/snsynth/bin/pip install --quiet torch==2.13.0
.peer-env/snsynth/bin/pip install --quiet smartnoise-synth==1.0.8
