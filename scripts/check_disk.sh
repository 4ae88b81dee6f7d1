#!/usr/bin/env bash
# Stops the virtualenv build early, with a clear message, when the disk cannot hold it.
# Usage: scripts/check_disk.sh DIR NEED_GIB
# The pinned torch 2.9.1 from PyPI is its CUDA build on x86_64 (torch, triton and the nvidia-*
# libraries): the finished .venv takes about 7.4 GiB, and pip needs room to unpack the wheels.
# A build that runs out of space half way leaves a broken .venv; this check runs before pip.
set -u
dir=${1:?usage: check_disk.sh DIR NEED_GIB}
need_gib=${2:?usage: check_disk.sh DIR NEED_GIB}
free_kib=$(df -Pk "$dir" 2>/dev/null | awk 'NR == 2 {print $4}')
[ -n "$free_kib" ] || exit 0  # df cannot tell: let pip try
free_gib=$((free_kib / 1048576))
if [ "$free_gib" -lt "$need_gib" ]; then
  cat >&2 <<MSG
error: $(cd "$dir" && pwd) has $free_gib GiB free; building the virtualenv needs about $need_gib GiB.
  The pinned torch 2.9.1 from PyPI is its CUDA build (about 7.4 GiB installed with its
  nvidia-* libraries). Free some space, or build elsewhere:  make test VENV=/other/disk/venv
MSG
  exit 1
fi
