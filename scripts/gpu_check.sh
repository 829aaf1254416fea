#!/usr/bin/env bash
# The GPU checks, run once on a lent CUDA machine (see docs/benchmarks.md). Needs $OUT for logs.
# Wheels of the pure-Python dependencies missing there are carried in .devwheels/, made with:
#   pip download --no-deps -d .devwheels scikit-optimize==0.10.2 sqlite-utils sqlite-fts4 \
#       platformdirs pyaml click-default-group
set -x
python3 -m pip install -q --no-deps --no-index .devwheels/*.whl 2>&1 | tail -2
export PYTHONPATH=$PWD
nvidia-smi --query-gpu=name,memory.total --format=csv
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))"
python3 -m pytest -q -p no:cacheprovider tests/training -x 2>&1 | tail -5
mkdir -p /tmp/d && cp resources/examples/digits_mlp.toml /tmp/d/
( time python3 -m hpo_desktop run /tmp/d/digits_mlp.toml ) > $OUT/digits_cuda.log 2>&1; tail -15 $OUT/digits_cuda.log
python3 bench/training_throughput.py --device cuda 2>&1 | tail -15
