"""Forbidden means the computation, not its spelling: for every week, each alias we know of each
forbidden API is refused in the worker, whatever name, thread, frame or trick reaches it; what the
student may use still works; and the guard hands out no original.

Each alias is one function of a student file, run in a worker set up exactly as grading sets it up
(``grading.connect``: the week's rules, operators and drivers) and called the way the grader calls.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from coursekit.config import load_week
from coursekit.grading.client import Connection, StudentError, Submission
from coursekit.grading.connect import operators_for
from coursekit.grading.sandbox import SandboxSettings, WorkerChannel
from coursekit.grading.static_check import api_kind
from coursekit.paths import Repo, find_repo_root

pytestmark = pytest.mark.slow

REPO = Repo(find_repo_root(Path(__file__)))

#: Every spelling of a package forbidden to a whole worker (weeks 1-3's numpy-only files).
TORCH_HEADER = """
    import importlib, sys, glob, ctypes
    import numpy as np
"""
TORCH_ALIASES = {
    "import torch": "import torch\nreturn torch.ones(2)",
    "a computed __import__": "t = __import__(''.join(map(chr, (116, 111, 114, 99, 104))))\nreturn t.ones(2)",
    "importlib": "return importlib.import_module('tor' + 'ch').ones(2)",
    "a submodule by importlib": "return importlib.import_module('torch.nn.functional').relu(np.ones(2))",
    "sys.modules after an import elsewhere": "__import__('torch')\nreturn sys.modules['torch'].ones(2)",
    "torch's native library by ctypes": (
        "found = glob.glob(sys.prefix + '/lib/python3*/site-packages/torch/lib/libtorch_cpu.so')\n"
        "if not found:  # the package folder is hidden from this worker altogether\n"
        "    raise LookupError('forbidden package not visible')\n"
        "return ctypes.CDLL(found[0])"),
    "torch's source read and executed": (
        "found = glob.glob(sys.prefix + '/lib/python3*/site-packages/torch/functional.py')\n"
        "if not found:\n"
        "    raise LookupError('forbidden package not visible')\n"
        "return open(found[0]).read()"),
}

#: Week -> (student file, the module's header, {alias name: body that computes a forbidden thing},
#: [bodies that must still work], optionally {another student file: its source}).
ALIASES = {
    "transformer": ("transformer.py", """
        import torch, threading, sys
        import torch.nn.functional as F
        from torch import nn
        x = torch.randn(2, 3, 8)
        q = k = v = torch.randn(1, 2, 3, 4)
    """, {
        "F.layer_norm": "return F.layer_norm(x, (8,))",
        "nn.LayerNorm": "return nn.LayerNorm(8)(x)",
        "torch.layer_norm": "return torch.layer_norm(x, (8,))",
        "torch.native_layer_norm": "return torch.native_layer_norm(x, (8,), None, None, 1e-5)[0]",
        "torch.ops.aten.layer_norm": "return torch.ops.aten.layer_norm(x, [8])",
        "torch.ops.aten.native_layer_norm": "return torch.ops.aten.native_layer_norm.default(x, [8], None, None, 1e-5)[0]",
        "torch._C._VariableFunctions": "return torch._C._VariableFunctions.native_layer_norm(x, [8], None, None, 1e-5)[0]",
        "layer norm under no_grad": "with torch.no_grad():\n    return F.layer_norm(x, (8,))",
        "layer norm under inference_mode": "with torch.inference_mode():\n    return F.layer_norm(x, (8,))",
        "layer norm as group_norm": "return F.group_norm(x.reshape(6, 8, 1), 1).reshape(2, 3, 8)",
        "layer norm as batch_norm": "return F.batch_norm(x.reshape(6, 8).T, None, None, training=True).T",
        "layer norm in TorchScript": "return torch.jit.script(nn.LayerNorm(8))(x)",
        "layer norm in a thread": "return ThreadPoolExecutor(1).submit(F.layer_norm, x, (8,)).result()",
        "LayerNorm found by __subclasses__": ("cls = [c for c in nn.Module.__subclasses__() if c.__name__ == 'Layer' + 'Norm'][0]\n"
                                              "return cls(8)(x)"),
        "LayerNorm from sys.modules": "return sys.modules['torch.nn.modules.normalization'].LayerNorm(8)(x)",
        "layer norm from exec under another file name": (
            "g = {}\nexec(compile('import torch.nn.functional as F\\ndef f(x): return F.layer_norm(x, (8,))', "
            "'<library>', 'exec'), g)\nreturn g['f'](x)"),
        "F.scaled_dot_product_attention": "return F.scaled_dot_product_attention(q, k, v)",
        "torch.ops.aten.scaled_dot_product_attention": "return torch.ops.aten.scaled_dot_product_attention(q, k, v)",
        "torch.ops.aten._scaled_dot_product_flash_attention_for_cpu": (
            "return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v)[0]"),
        "torch.ops.aten._scaled_dot_product_attention_math": (
            "return torch.ops.aten._scaled_dot_product_attention_math(q, k, v)[0]"),
        "nn.MultiheadAttention": "m = nn.MultiheadAttention(8, 2, batch_first=True)\nreturn m(x, x, x)[0]",
        "nn.MultiheadAttention with weights": ("m = nn.MultiheadAttention(8, 2, batch_first=True)\n"
                                               "return m(x, x, x, need_weights=True)[0]"),
        "the guard's original from a closure": "return from_closure(F.layer_norm, x, (8,))",
        "MultiheadAttention's original forward from a closure": (
            "m = object.__new__(nn.MultiheadAttention)\nreturn from_closure(nn.MultiheadAttention.forward, m, x, x, x)"),
        "the guard's hook asked for an original": (
            "box = []\nsys.audit(sys.modules['coursekit.worker.strict']._EVENT, 1, box)\nreturn box[0](x, (8,))"),
        "the guard's wrapper rebuilt with other globals": (
            "g = {'_EVENT': sys.modules['coursekit.worker.strict']._EVENT}\n"
            "f = types.FunctionType(F.layer_norm.__code__, g, 'f', None, F.layer_norm.__closure__)\n"
            "return f(x, (8,))"),
    }, ["return F.linear(x, torch.eye(8)) + torch.softmax(x, -1)"]),
    "rnn": ("rnn.py", """
        import torch, threading, functools
        from torch import nn
        x = torch.randn(1, 3)
        h = torch.randn(1, 4)
        w_ih, w_hh, b_ih, b_hh = torch.randn(16, 3), torch.randn(16, 4), torch.randn(16), torch.randn(16)
        p = nn.Parameter(torch.ones(3)); p.grad = torch.full((3,), 10.0)
    """, {
        "torch.lstm_cell": "return torch.lstm_cell(x, (h, h), w_ih, w_hh, b_ih, b_hh)[0]",
        "torch._VF.lstm_cell": "return torch._VF.lstm_cell(x, (h, h), w_ih, w_hh, b_ih, b_hh)[0]",
        "torch.ops.aten.lstm_cell": "return torch.ops.aten.lstm_cell(x, [h, h], w_ih, w_hh, b_ih, b_hh)[0]",
        "nn.LSTMCell": "return nn.LSTMCell(3, 4)(x)[0]",
        "nn.LSTM": "return nn.LSTM(3, 4)(x.unsqueeze(0))[0]",
        "torch._VF.lstm": ("return torch._VF.lstm(x.unsqueeze(0), (h.unsqueeze(0), h.unsqueeze(0)), "
                           "[w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, False, False, False)[0]"),
        "torch.gru_cell": "return torch.gru_cell(x, h, w_ih[:12], w_hh[:12], b_ih[:12], b_hh[:12])",
        "torch.rnn_tanh_cell": "return torch.rnn_tanh_cell(x, h, w_ih[:4], w_hh[:4], b_ih[:4], b_hh[:4])",
        "nn.utils.clip_grad_norm_": "return nn.utils.clip_grad_norm_([p], 1.0)",
        "the defining submodule's clip_grad_norm_": "return torch.nn.utils.clip_grad.clip_grad_norm_([p], 1.0)",
        "clip_grad_norm_ in two halves": (
            "n = torch.nn.utils.get_total_norm([p.grad])\ntorch.nn.utils.clip_grads_with_norm_([p], 1.0, n)\nreturn n"),
        "clip_grad_norm_ as a library's callback": (
            "opt = torch.optim.SGD([p], lr=0.0)\nreturn opt.step(functools.partial(torch.nn.utils.clip_grad_norm_, [p], 1.0))"),
        "clip_grad_norm_ in a thread": (
            "return ThreadPoolExecutor(1).submit(torch.nn.utils.clip_grad_norm_, [p], 1.0).result()"),
        "clip_grad_norm_'s original from a closure": "return from_closure(torch.nn.utils.clip_grad_norm_, [p], 1.0)",
        "torch.autograd.grad": ("y = (p * 2).sum()\nreturn torch.autograd.grad(y, [p])[0]"),
        "the server's own dispatch called with a made-up request": (
            "server = sys.modules['coursekit.worker.server'].Server\n"
            "fake = types.SimpleNamespace(resolve=None, module=lambda name: types.SimpleNamespace(\n"
            "    f=functools.partial(torch.nn.utils.clip_grad_norm_, [p], 1.0)))\n"
            "return server.dispatch(fake, {'op': 'call', 'module': 'm', 'name': 'f'}, [])"),
    }, ["return torch.tanh(x @ w_ih[:4].T + h @ w_hh[:4].T)"]),
    "vae": ("vae.py", """
        import torch, importlib
        import torch.nn.functional as F
        z = torch.randn(4)
    """, {
        "torch.distributions by a computed name": (
            "d = getattr(torch, 'distri' + 'butions')\nreturn d.Normal(0.0, 1.0).log_prob(z)"),
        "torch.distributions by importlib": (
            "d = importlib.import_module('torch.' + 'distributions')\nreturn d.Normal(0.0, 1.0).log_prob(z)"),
        "torch.distributions' kl_divergence": (
            "d = getattr(torch, 'distri' + 'butions')\n"
            "return d.kl_divergence(d.Normal(z, 1.0), d.Normal(0.0, 1.0))"),
        "a distribution's method without its constructor": (
            "d = getattr(torch, 'distri' + 'butions')\nn = object.__new__(d.Normal)\n"
            "n.loc, n.scale = z, torch.ones(4)\nn._validate_args = False\nreturn d.Normal.log_prob(n, z)"),
        "F.binary_cross_entropy_with_logits": "return F.binary_cross_entropy_with_logits(z, torch.ones(4))",
        "torch.binary_cross_entropy_with_logits": "return torch.binary_cross_entropy_with_logits(z, torch.ones(4))",
        "torch.ops.aten.binary_cross_entropy": "return torch.ops.aten.binary_cross_entropy(torch.sigmoid(z), torch.ones(4))",
        "torch._C._nn.binary_cross_entropy": "return torch._C._nn.binary_cross_entropy(torch.sigmoid(z), torch.ones(4))",
    }, ["return -(torch.nn.functional.softplus(-z)).sum()"]),
    # A package forbidden to every file of a worker cannot be loaded at all, however it is reached.
    "perceptron": ("perceptron.py", TORCH_HEADER, TORCH_ALIASES, ["return float(np.tanh(0.5))"]),
    "backprop": ("backprop.py", TORCH_HEADER, TORCH_ALIASES, ["return float(np.exp(0.0))"]),
    "cnn": ("conv.py", TORCH_HEADER, {
        **TORCH_ALIASES,
        "torch re-exported by cnn.py": "from cnn import torch as t\nreturn t.ones(2)",
        "conv2d re-exported by cnn.py": "import cnn\nreturn cnn.F.conv2d(cnn.torch.ones(1, 1, 3, 3), cnn.torch.ones(1, 1, 2, 2))",
        "scipy.signal": "from scipy import signal\nreturn signal.convolve2d(np.ones((3, 3)), np.ones((2, 2)))",
        "scipy.signal by importlib": (
            "return importlib.import_module('scipy.' + 'signal').correlate2d(np.ones((3, 3)), np.ones((2, 2)))"),
        "scipy.signal's private module": (
            "return importlib.import_module('scipy.signal._signaltools').convolve(np.ones(3), np.ones(2))"),
        "scipy.ndimage by a computed name": (
            "import scipy\nreturn getattr(scipy, 'nd' + 'image').convolve(np.ones((3, 3)), np.ones((2, 2)))"),
    }, ["return float(np.lib.stride_tricks.sliding_window_view(np.ones(4), 2).sum())"],
        {"cnn.py": "import torch\nimport torch.nn.functional as F\n"}),
    "diffusion": ("diffusion.py", """
        import importlib, sys
    """, {
        "diffusers by importlib": "return importlib.import_module('diff' + 'users').DDPMScheduler()",
        "denoising_diffusion_pytorch by __import__": (
            "return __import__('denoising_diffusion_' + 'pytorch').GaussianDiffusion()"),
    }, ["import torch\nreturn float(torch.ones(2).sum())"]),
}


#: Every student file of these tests can try what a wrapper's closure holds.
FROM_CLOSURE = """
import sys, types
from concurrent.futures import ThreadPoolExecutor

def from_closure(f, *args):
    for cell in f.__closure__ or ():
        try:
            return cell.cell_contents(*args)
        except Exception:  # not a function that takes these arguments
            pass
    return f(*args)  # nothing in the closure computes: the wrapper itself is refused
"""


def _source(header: str, bodies: list[str]) -> str:
    parts = [FROM_CLOSURE, dedent(header)]
    for i, body in enumerate(bodies):
        parts.append(f"def alias_{i}():\n" + "\n".join("    " + line for line in body.splitlines()) + "\n")
    return "\n".join(parts)


def _worker(week_name: str, file: str, source: str, others: dict[str, str] | None = None):
    """A worker that serves ``file`` as grading would, with the submission's ``others`` files beside
    it (importable, under this worker's rules)."""
    week = load_week(REPO, week_name)
    kinds = {f.api: api_kind(f.api) for f in week.forbidden}
    forbidden = [[f.api, list(f.files), f.reason, kinds[f.api], f.everywhere] for f in week.forbidden]
    drivers = week.drivers_path
    files = {file: source.encode(), **{n: t.encode() for n, t in (others or {}).items()}}
    channel = WorkerChannel(SandboxSettings(
        student_files=files, served_files=[file], forbidden=forbidden, operators=operators_for(week, file),
        drivers=drivers.read_bytes() if drivers is not None else None, memory_mb=3000))
    channel.start()
    return channel, Submission({Path(file).stem: Connection(channel, 60.0)})


@pytest.mark.parametrize("week_name", sorted(ALIASES))
def test_every_alias_of_a_forbidden_api_is_refused_in_the_worker(week_name, isolation_mode):
    file, header, aliases, allowed, *others = ALIASES[week_name]
    names = list(aliases)
    channel, submission = _worker(week_name, file, _source(header, [aliases[n] for n in names] + allowed),
                                  others[0] if others else None)
    module = getattr(submission, Path(file).stem)
    computed, refused = [], []
    try:
        for i, name in enumerate(names):
            try:
                getattr(module, f"alias_{i}")()
                computed.append(name)
            except StudentError as e:
                # TorchScript wraps the refusal in its own RuntimeError, which still says why.
                if e.type == "ForbiddenAPIError" or "forbidden" in e.message:
                    refused.append(name)
                else:
                    computed.append(f"{name} ({e.type}: {e.message[:120]})")
        for j in range(len(allowed)):  # what the student may use still works
            getattr(module, f"alias_{len(names) + j}")()
    finally:
        channel.close()
    assert not computed, f"{week_name}: computed where it must be refused: {computed}"


def test_every_operator_a_week_forbids_exists_and_has_a_kernel():
    """A misspelt operator in week.toml would refuse nothing: each names an operator of the pinned
    PyTorch with at least one computing kernel."""
    from coursekit.worker.operators import computing_keys, overloads

    for week_name in REPO.week_names():
        for f in load_week(REPO, week_name).forbidden:
            for op in f.operators:
                assert any(computing_keys(q) for q in overloads(op)), f"{week_name}: {f.api}: {op}"


def test_a_file_may_import_another_and_runs_it_under_its_own_workers_rules(isolation_mode):
    """Week 4's char_lm.py may build its model from rnn.py's cells (its docstring says so) although
    rnn.py runs in a worker that refuses nn.LSTM; rnn.py cannot reach nn.LSTMCell through char_lm.py,
    since in rnn.py's worker char_lm.py's code runs under rnn.py's rules."""
    from coursekit.grading.connect import worker_groups

    files = {"rnn.py": dedent("""
        import torch
        def cell(x):
            return torch.tanh(x)
        def through_char_lm():
            import char_lm
            return char_lm.nn.LSTMCell(3, 4)(torch.randn(1, 3))[0]
    """), "char_lm.py": dedent("""
        import torch
        from torch import nn
        from rnn import cell
        def uses_part_a():
            return cell(torch.zeros(2)).tolist()
        def uses_lstm():
            return nn.LSTM(3, 4, batch_first=True)(torch.randn(1, 2, 3))[0].shape[-1]
    """)}
    week = load_week(REPO, "rnn")
    assert sorted(worker_groups(week, files)) == [["char_lm.py"], ["rnn.py"]]
    channels = []
    try:
        channel, char_lm = _worker("rnn", "char_lm.py", files["char_lm.py"], {"rnn.py": files["rnn.py"]})
        channels.append(channel)
        assert char_lm.char_lm.uses_part_a() == [0.0, 0.0]
        assert char_lm.char_lm.uses_lstm() == 4
        channel, rnn = _worker("rnn", "rnn.py", files["rnn.py"], {"char_lm.py": files["char_lm.py"]})
        channels.append(channel)
        with pytest.raises(StudentError) as refused:
            rnn.rnn.through_char_lm()
        assert refused.value.type == "ForbiddenAPIError"
    finally:
        for channel in channels:
            channel.close()
