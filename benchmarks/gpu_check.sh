#!/bin/bash
# The GPU check of issue 12, part 6, as one prepared script for the device tool (about
# 8 minutes): `bash benchmarks/gpu_check.sh` from the repository root on the GPU machine.
# Figures go under ${OUT:-gpu-check}/ (the device tool's $OUT comes back).
#
# That machine's image has jax (CUDA), optax, sympy, networkx, rich and pyyaml but not
# Ray, and nothing can be installed from the network there; Ray's wheel (about 70 MB) is
# over the 64 MiB a call may carry. So this check runs what needs no Ray: the evaluator
# bench and the landscape bench on the GPU suite. A rediscovery seed on a GPU needs a
# machine where Ray is installed (`lion-search rediscover configs/gpu.yaml --seeds 1`).
set -u
out=${OUT:-gpu-check}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
cli="python3 -m search.cli"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$out/gpu.txt" 2>&1
# 1. evaluator throughput, plain and tuned, programs vmapped in batches of 32 (~2 min)
timeout 180 $cli bench eval --suite gpu --device gpu --program-axis vmap --batch-size 32 \
  --seeds 0,1,2,3 --json > "$out/bench_eval.json" 2> "$out/bench_eval.err"
# 2. the landscape of the panel on the GPU suite, 8 seeds (~5 min; programs are vmapped
#    on an accelerator by default)
timeout 300 $cli bench landscape --suite gpu --seeds 8 --batch-size 32 --device gpu \
  --json > "$out/landscape.json" 2> "$out/landscape.err"
tail -c 2000 "$out/bench_eval.json" "$out/landscape.json" "$out"/*.err
