#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 base).
# It installs the pinned dependencies into a virtual environment and leaves the system python3,
# which Gradescope's own harness uses, alone.
#
#   COURSEKIT_TORCH=cpu   (default) the CPU build of torch: Gradescope documents no GPU.
#   COURSEKIT_TORCH=cuda  the CUDA build, for the Docker image run on a course's own GPU machines.
set -euo pipefail

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${COURSEKIT_VENV:-/opt/coursekit-venv}"
torch_build="${COURSEKIT_TORCH:-cpu}"
torch_index_cpu="https://download.pytorch.org/whl/cpu"
torch_index_cuda="https://download.pytorch.org/whl/cu128"

# tomllib needs Python 3.11; Ubuntu 22.04's python3 is 3.10, so install 3.11 beside it. libseccomp
# is what the worker's syscall filter is made with (grading refuses to start without it).
if ! command -v python3.11 >/dev/null 2>&1 || ! ldconfig -p | grep -q 'libseccomp\.so\.2'; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    python3.11 python3.11-venv procps libseccomp2
fi

python3.11 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
if [ "$torch_build" = cuda ]; then
  "$venv/bin/python" -m pip install -q --index-url "$torch_index_cuda" "$(grep '^torch==' "$source_dir/requirements.txt")"
else
  "$venv/bin/python" -m pip install -q --index-url "$torch_index_cpu" "$(grep '^torch==' "$source_dir/requirements.txt")"
fi
"$venv/bin/python" -m pip install -q -r "$source_dir/requirements.txt"
"$venv/bin/python" -m pip install -q --no-deps "$source_dir/engine"

# The worker user (created by the grader when it first grades) runs student code: the environment
# must be readable by it, the source must not.
chmod -R a+rX "$venv"
chmod 700 "$source_dir"
"$venv/bin/python" -I -c "import coursekit, numpy, torch; print('coursekit ready; torch', torch.__version__)"
