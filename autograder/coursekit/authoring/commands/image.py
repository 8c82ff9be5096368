"""``make image HW=x``: the CUDA-enabled grading image, built with Docker from the week's zip.

The zip (``make autograder``) is unpacked into ``gradescope/build/<week>/`` (ignored by git), which
the ``Dockerfile`` copies to ``/autograder/source`` before running its ``setup.sh`` with the CUDA
build of torch. The image is tagged ``coursekit-grader:<week>``; the README says how to push it to a
private registry shared with Gradescope and how to run it on a GPU machine.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile

from ...config import load_week
from ...paths import Repo
from .autograder import build


def main(*, week: str, torch_build: str = "cuda", repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    config = load_week(repo, week)
    docker = shutil.which("docker")
    if docker is None:
        print("error: `make image` needs Docker, and no docker command is on PATH; install Docker, or "
              "upload dist/gradescope/<week>.zip (make autograder) instead")
        return 2
    probe = subprocess.run([docker, "info"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("error: the docker command cannot reach a Docker engine (`docker info` failed); start the "
              "engine, or upload the zip from `make autograder` instead")
        return 2
    archive = build(repo, config)
    context = repo.root / "gradescope"
    target = context / "build" / week
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(archive) as z:
        z.extractall(target)
    tag = f"coursekit-grader:{week}"
    cmd = [docker, "build", "-f", str(context / "Dockerfile"), "--build-arg", f"WEEK={week}",
           "--build-arg", f"COURSEKIT_TORCH={torch_build}", "-t", tag, str(context)]
    print(" ".join(cmd))
    done = subprocess.run(cmd)
    if done.returncode != 0:
        print(f"error: docker build failed (exit code {done.returncode}); its output is above")
        return 1
    print(f"built {tag}; push it with: docker tag {tag} <registry>/<repo>:{week} && docker push ...")
    return 0
