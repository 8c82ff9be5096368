"""``api_kind`` decides module or attribute as the import system would, without running a package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from coursekit.config import load_all_weeks
from coursekit.paths import Repo, find_repo_root

REPO = Repo(find_repo_root(Path(__file__)))

#: Beyond the course's own rules: a module a plain module registers when it runs (os.path), names
#: inside a plain module, in a package, a missing submodule with more after it, a missing package.
EXTRA = ["os.path", "os.path.join", "json.decoder", "json.decoder.JSONDecoder", "collections.abc",
         "numpy.linalg", "numpy.linalg.norm", "numpy.fft", "torch.nn.functional",
         "torch.nn.functional.relu", "torch.nn.no_such_module.name", "no_such_package.sub",
         "scipy.signal.convolve2d"]

_PROBE = """
import importlib.util, json, sys
from coursekit.grading.static_check import api_kind
apis = json.loads(sys.argv[1])
fast = {a: api_kind(a) for a in apis}
loaded = sorted(p for p in ("torch", "scipy", "sklearn", "diffusers") if p in sys.modules)
def by_import(api):  # what find_spec says, importing the parents
    try:
        return "module" if importlib.util.find_spec(api) is not None else "attribute"
    except ModuleNotFoundError as e:
        return "module" if e.name and e.name != api and api.startswith(e.name + ".") else "attribute"
    except (ImportError, ValueError):
        return "attribute"
slow = {a: ("module" if "." not in a else by_import(a)) for a in apis}
print(json.dumps({"fast": fast, "slow": slow, "loaded": loaded}))
"""


def test_api_kind_agrees_with_the_import_system_and_imports_nothing():
    apis = sorted({f.api for week in load_all_weeks(REPO) for f in week.forbidden} | set(EXTRA))
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(apis)], capture_output=True, text=True,
                          check=True)
    out = json.loads(done.stdout)
    assert out["loaded"] == [], f"deciding kinds imported {out['loaded']}"
    assert {a: k for a, k in out["fast"].items() if k != out["slow"][a]} == {}
    assert out["fast"]["torch.nn.LSTM"] == "attribute" and out["fast"]["torch.nn.modules.rnn"] == "module"
    assert out["fast"]["os.path"] == "module" and out["fast"]["scipy.signal"] == "module"
