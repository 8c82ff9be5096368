"""The wire format: values round-trip as plain types, and every malformed frame is refused."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
import torch

from coursekit import protocol
from coursekit.protocol import Handle, ProtocolError


def roundtrip(value):
    buffers: list[bytes] = []
    encoded = protocol.encode_value(value, buffers, None)
    frame = protocol.pack_frame({"value": encoded}, buffers)
    r, w = os.pipe()
    try:
        protocol.write_frame(w, frame)
        os.close(w)
        header, bufs = protocol.FrameReader(r).read(deadline=None)
    finally:
        os.close(r)
    return protocol.decode_value(header["value"], bufs, None)


@pytest.mark.parametrize("value", [None, True, 3, -2.5, float("inf"), "text", [1, [2, 3]], (1, "a"),
                                   {"a": 1, "b": [1.5]}, {1: "int key"}, b"raw"])
def test_plain_values_roundtrip_with_their_types(value):
    got = roundtrip(value)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_])
def test_arrays_roundtrip_as_plain_owned_ndarrays(dtype):
    arr = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    got = roundtrip(arr[:, ::2])
    assert type(got) is np.ndarray and got.dtype == dtype and got.flags.owndata
    np.testing.assert_array_equal(got, arr[:, ::2])


def test_numpy_scalars_keep_their_dtype():
    got = roundtrip(np.float32(1.5))
    assert type(got) is np.float32 and got == 1.5


def test_tensors_roundtrip_including_bfloat16_and_requires_grad():
    t = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    got = roundtrip(t)
    assert type(got) is torch.Tensor and got.dtype == torch.float64 and got.requires_grad
    assert torch.equal(got.detach(), t.detach())
    b = roundtrip(torch.ones(4, dtype=torch.bfloat16))
    assert b.dtype == torch.bfloat16 and torch.equal(b, torch.ones(4, dtype=torch.bfloat16))


def test_objects_become_handles_only_where_allowed():
    with pytest.raises(ProtocolError, match="cannot send a object"):
        protocol.encode_value(object(), [], None)
    buffers: list[bytes] = []
    encoded = protocol.encode_value([object()], buffers, lambda o: Handle(7, "object"))
    assert protocol.decode_value(encoded, buffers, None) == [Handle(7, "object")]


def test_a_student_dict_cannot_pose_as_a_tag():
    value = {"t": "nd", "dtype": "<f8", "shape": [1], "buf": 0}
    assert roundtrip(value) == value


@pytest.mark.parametrize("data, problem", [
    ({"t": "nd", "dtype": "|O", "shape": [1], "buf": 0}, "not allowed"),
    ({"t": "nd", "dtype": "<f8", "shape": [3], "buf": 0}, "does not match"),
    ({"t": "nd", "dtype": "<f8", "shape": [-1], "buf": 0}, "non-negative"),
    ({"t": "nd", "dtype": "<f8", "shape": [1], "buf": 5}, "missing buffer"),
    ({"t": "pickle", "buf": 0}, "unknown tag"),
    ([1, 2], "untagged"),
    ({"t": "tensor", "dtype": "complex64", "shape": [1], "buf": 0}, "not allowed"),
])
def test_malformed_values_are_refused(data, problem):
    with pytest.raises(ProtocolError, match=problem):
        protocol.decode_value(data, [b"\0" * 8], None)


def test_deep_nesting_is_refused():
    data: dict = {"t": "list", "v": []}
    for _ in range(protocol.MAX_DEPTH + 5):
        data = {"t": "list", "v": [data]}
    with pytest.raises(ProtocolError, match="nested deeper"):
        protocol.decode_value(data, [], None)


def _read(raw: bytes, deadline=None):
    r, w = os.pipe()
    os.write(w, raw)
    os.close(w)
    try:
        return protocol.FrameReader(r).read(deadline)
    finally:
        os.close(r)


@pytest.mark.parametrize("raw, error", [
    (b"\xff\xff\xff\xff", ProtocolError),                                   # header too large
    (struct.pack("<I", 5) + b"nope!", ProtocolError),                       # not JSON
    (struct.pack("<I", 4) + b"[1] ", ProtocolError),                        # not an object
    (struct.pack("<I", 20) + b'{"nbuf": 1}', protocol.PeerClosed),          # truncated
    (struct.pack("<I", 11) + b'{"nbuf": 1}' + struct.pack("<Q", 2**40), ProtocolError),  # huge buffer
    (struct.pack("<I", 13) + b'{"nbuf": -1} ', ProtocolError),
])
def test_malformed_frames_are_refused(raw, error):
    with pytest.raises(error):
        _read(raw)


def test_reading_respects_the_deadline():
    r, w = os.pipe()
    try:
        with pytest.raises(protocol.Timeout):
            protocol.FrameReader(r).read(deadline=__import__("time").monotonic() + 0.2)
    finally:
        os.close(r)
        os.close(w)


PICKLE_FAMILY = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"}
ARRAY_LOADERS = {("torch", "load"), ("numpy", "load"), ("np", "load")}


def _pickle_family_uses(source: str) -> list[str]:
    """Where ``source`` imports a pickle-family module, names one to ``__import__`` or
    ``import_module``, or reaches ``torch.load``/``np.load`` (by attribute, ``from`` import or
    ``getattr``). Read as Python reads it, so the engine may name these in strings and prose (the
    integrity scanner flags them in student files)."""
    import ast
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in PICKLE_FAMILY]
        elif isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            if top in PICKLE_FAMILY:
                found.append(f"from {node.module} import")
            found += [f"from {node.module} import {a.name}" for a in node.names
                      if (top, a.name) in ARRAY_LOADERS]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in ARRAY_LOADERS:
                found.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            constants = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if name in ("__import__", "import_module") and any(c in PICKLE_FAMILY for c in constants):
                found.append(f"{name}({constants[0]!r})")
            if name == "getattr" and "load" in constants:
                found.append("getattr(..., 'load')")
    return found


def test_the_pickle_family_check_finds_each_spelling():
    for source in ("import pickle", "import dill as d", "from marshal import loads", "import joblib",
                   "torch.load(f)", "np.load(f)", "from numpy import load", "__import__('pickle')",
                   "importlib.import_module('shelve')", "getattr(torch, 'load')(f)"):
        assert _pickle_family_uses(source), source
    assert not _pickle_family_uses('"""never unpickle"""\nFLAGS = {"pickle.loads": 1}\nx.load_state()')


def test_the_grader_side_never_uses_a_pickle_family_loader():
    """No module on the trusted side may deserialize bytes with pickle, dill, torch.load or np.load."""
    import pathlib
    package = pathlib.Path(protocol.__file__).parent
    trusted = [package / "protocol.py", package / "plugin.py", package / "checks.py",
               package / "tolerances.py", *sorted((package / "grading").glob("*.py"))]
    for path in trusted:
        assert not _pickle_family_uses(path.read_text()), path.name
