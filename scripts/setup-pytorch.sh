#!/usr/bin/env bash
# PyTorch (and safetensors) for the benchmark's reference leg and the notebook exchange only (building, serving and testing never
# need it): a venv in target/pytorch with the issue's torch 2.15.0. PyPI's wheel brings
# CUDA libraries (unused here): about 3 GB to download, 5.4 GB installed, once.
# Skips the install when the right versions are present.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.15.0
NUMPY_VERSION=2.4.6
SAFETENSORS_VERSION=0.8.0
VENV=target/pytorch

if "$VENV/bin/python" -c "
import sys, numpy, torch, safetensors
sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION' or numpy.__version__ != '$NUMPY_VERSION'
         or safetensors.__version__ != '$SAFETENSORS_VERSION')
" 2>/dev/null; then
  printf '\033[1m==> %s\033[0m\n' "PyTorch $TORCH_VERSION: present"
else
  printf '\033[1m==> %s\033[0m\n' "PyTorch $TORCH_VERSION: installing into $VENV (about 3 GB from PyPI, once)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "torch==$TORCH_VERSION" "numpy==$NUMPY_VERSION" \
    "safetensors==$SAFETENSORS_VERSION"
fi
