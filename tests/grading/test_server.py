"""The worker's request handler: calling a handle calls the object, as Python's ``obj(...)`` does."""

from __future__ import annotations

from coursekit import protocol
from coursekit.worker.server import Server

STUDENT = '''
import torch
from torch import nn

class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor
'''


def _request(server: Server, header: dict):
    buffers: list[bytes] = []
    for key in ("args", "kwargs"):
        if key in header:
            header[key] = protocol.encode_value(header[key], buffers, lambda h: h)
    return server.dispatch(header, buffers)


def test_calling_a_torch_module_class_constructs_an_instance(tmp_path):
    """An nn.Module subclass defines __call__ for its instances; calling the class must construct."""
    import torch

    (tmp_path / "mod.py").write_text(STUDENT)
    server = Server(tmp_path, ["mod"])
    cls = _request(server, {"op": "getattr", "handle": None, "module": "mod", "name": "Scale"})["value"]
    handle = server.make_handle(cls)
    module = _request(server, {"op": "call_method", "handle": handle.id, "name": "__call__", "args": [3.0]})
    assert isinstance(module, torch.nn.Module) and module.factor == 3.0
    out = _request(server, {"op": "call_method", "handle": server.make_handle(module).id, "name": "__call__",
                            "args": [torch.ones(2)]})
    assert torch.equal(out, torch.full((2,), 3.0))
