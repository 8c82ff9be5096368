"""The data-only wire format between the grader and the worker.

A frame is::

    u32 header length | header (UTF-8 JSON) | for each buffer: u64 length | raw bytes

(all little-endian). The header is a JSON object; values inside it are encoded so that decoding
builds only plain data that the decoder constructs itself:

- ``null``, booleans, integers, floats (NaN and ±inf as Python's JSON writes them), strings;
- every container is a tagged object, so nothing a student returns can pose as a tag:
  ``{"t": "list" | "tuple", "v": [...]}``, ``{"t": "dict", "v": [[key, value], ...]}``;
- ``{"t": "nd", "dtype": "<f8", "shape": [2, 3], "buf": 0}``: a numpy array whose bytes are
  buffer 0; ``{"t": "tensor", ...}`` likewise for a torch tensor (rebuilt on the CPU);
- ``{"t": "np", "dtype": "<f8", "v": 1.5}``: a numpy scalar;
- ``{"t": "handle", "id": 3, "type": "MulticlassPerceptron"}``: an object that stays in the worker;
- ``{"t": "bytes", "buf": 1}``.

Dtypes are allow-listed; shapes are checked against the buffer length; header and buffer sizes and
nesting depth are capped. Nothing here ever unpickles: a frame is bytes in, plain data out.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from dataclasses import dataclass
from typing import Any, Callable

MAX_HEADER_BYTES = 4 * 1024 * 1024
MAX_BUFFER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_BUFFERS = 4096
MAX_DEPTH = 40
MAX_NDIM = 8

#: numpy dtype strings accepted on the wire (little-endian, no objects, no structured types).
ALLOWED_DTYPES = {"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"}
#: torch dtype names accepted, and the numpy dtype their bytes travel as.
TORCH_DTYPES = {"bool": "|b1", "uint8": "|u1", "int8": "|i1", "int16": "<i2", "int32": "<i4",
                "int64": "<i8", "float16": "<f2", "float32": "<f4", "float64": "<f8",
                "bfloat16": "<i2"}


class ProtocolError(RuntimeError):
    """A frame that breaks the format or a cap; the peer is not to be trusted further."""


class PeerClosed(ProtocolError):
    """The other side closed the channel (the worker died or exited)."""


class Timeout(ProtocolError):
    """No complete frame arrived before the deadline."""


@dataclass(frozen=True)
class Handle:
    """A reference to an object that lives in the worker."""

    id: int
    type: str


# --- encoding ---------------------------------------------------------------------------------

def encode_value(value: Any, buffers: list[bytes], make_handle: Callable[[Any], Handle] | None,
                 depth: int = 0) -> Any:
    """Encode ``value`` into JSON-able data, appending raw array bytes to ``buffers``.

    Objects that are not data become handles through ``make_handle`` (worker side); without it
    they are an error (grader side sends only data and handles).
    """
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return value
    if isinstance(value, Handle):
        return {"t": "handle", "id": value.id, "type": value.type}
    if type(value) in (list, tuple):
        return {"t": type(value).__name__,
                "v": [encode_value(v, buffers, make_handle, depth + 1) for v in value]}
    if type(value) is dict:
        items = []
        for k, v in value.items():
            if type(k) is not str:
                k = encode_value(k, buffers, make_handle, depth + 1)
            items.append([k, encode_value(v, buffers, make_handle, depth + 1)])
        return {"t": "dict", "v": items}
    if type(value) is bytes:
        buffers.append(value)
        return {"t": "bytes", "buf": len(buffers) - 1}
    np = _numpy_if_loaded()
    if np is not None:
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            # ascontiguousarray promotes 0-d to 1-d; reshape keeps the caller's shape exactly.
            arr = np.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False)
            arr = arr.reshape(value.shape)
            buffers.append(arr.tobytes())
            return {"t": "nd", "dtype": arr.dtype.str, "shape": list(arr.shape),
                    "buf": len(buffers) - 1}
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return {"t": "np", "dtype": value.dtype.newbyteorder("<").str, "v": value.item()}
    torch = torch_if_loaded()
    if torch is not None:
        if isinstance(value, torch.Tensor) and not value.is_sparse and str(value.dtype)[6:] in TORCH_DTYPES:
            name = str(value.dtype)[6:]
            t = value.detach().to("cpu").contiguous()
            if name == "bfloat16":
                t = t.view(torch.int16)
            buffers.append(t.numpy().tobytes())
            return {"t": "tensor", "dtype": name, "shape": list(value.shape), "buf": len(buffers) - 1,
                    "requires_grad": bool(value.requires_grad)}
        if isinstance(value, torch.Size):
            return {"t": "tuple", "v": [int(d) for d in value]}
        if isinstance(value, torch.dtype):
            return {"t": "torch_dtype", "v": str(value)[6:]}
    if make_handle is None:
        raise ProtocolError(f"cannot send a {type(value).__name__} (only data and handles)")
    return encode_value(make_handle(value), buffers, None, depth)


def _numpy_if_loaded():
    import sys
    return sys.modules.get("numpy")


def torch_if_loaded():
    """torch when a real torch is loaded (never the stand-in of a worker where torch is forbidden)."""
    import sys
    torch = sys.modules.get("torch")
    return torch if isinstance(getattr(torch, "Tensor", None), type) else None




# --- decoding ---------------------------------------------------------------------------------

def decode_value(data: Any, buffers: list[bytes], resolve_handle: Callable[[Handle], Any] | None,
                 depth: int = 0) -> Any:
    """Rebuild plain values from ``data``; handles go through ``resolve_handle`` (or stay Handles)."""
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value nested deeper than {MAX_DEPTH} levels")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is not dict:
        raise ProtocolError(f"untagged {type(data).__name__} in a frame")
    tag = data.get("t")
    if tag in ("list", "tuple"):
        items = data.get("v")
        if type(items) is not list:
            raise ProtocolError(f"{tag} without items")
        out = [decode_value(v, buffers, resolve_handle, depth + 1) for v in items]
        return out if tag == "list" else tuple(out)
    if tag == "dict":
        items = data.get("v")
        if type(items) is not list:
            raise ProtocolError("dict without items")
        result = {}
        for pair in items:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("dict item is not a [key, value] pair")
            key = decode_value(pair[0], buffers, resolve_handle, depth + 1)
            try:
                result[key] = decode_value(pair[1], buffers, resolve_handle, depth + 1)
            except TypeError:
                raise ProtocolError("unhashable dict key") from None
        return result
    if tag == "handle":
        hid, typ = data.get("id"), data.get("type")
        if type(hid) is not int or type(typ) is not str:
            raise ProtocolError("malformed handle")
        handle = Handle(hid, typ[:200])
        return resolve_handle(handle) if resolve_handle else handle
    if tag == "bytes":
        return bytes(_buffer(data, buffers))
    if tag == "np":
        import numpy as np
        dtype = _dtype(data.get("dtype"))
        value = data.get("v")
        if type(value) not in (bool, int, float):
            raise ProtocolError("numpy scalar without a number")
        try:
            return np.array(value).astype(dtype)[()]
        except (OverflowError, ValueError):
            raise ProtocolError("numpy scalar out of its dtype's range") from None
    if tag == "nd":
        return _array(data, buffers)
    if tag == "tensor":
        import torch
        name = data.get("dtype")
        if name not in TORCH_DTYPES:
            raise ProtocolError(f"tensor dtype {name!r} is not allowed")
        arr = _array({**data, "dtype": TORCH_DTYPES[name]}, buffers)
        t = torch.from_numpy(arr)
        if name == "bfloat16":
            t = t.view(torch.bfloat16)
        if data.get("requires_grad") is True and t.is_floating_point():
            t.requires_grad_(True)
        return t
    if tag == "torch_dtype":
        import torch
        name = data.get("v")
        if name not in TORCH_DTYPES:
            raise ProtocolError(f"torch dtype {name!r} is not allowed")
        return getattr(torch, name)
    raise ProtocolError(f"unknown tag {str(tag)[:40]!r}")


def _buffer(data: dict, buffers: list[bytes]) -> bytes:
    index = data.get("buf")
    if type(index) is not int or not 0 <= index < len(buffers):
        raise ProtocolError("reference to a missing buffer")
    return buffers[index]


def _dtype(name: Any):
    import numpy as np
    if name not in ALLOWED_DTYPES:
        raise ProtocolError(f"dtype {str(name)[:20]!r} is not allowed")
    return np.dtype(name)


def _array(data: dict, buffers: list[bytes]):
    import numpy as np
    dtype = _dtype(data.get("dtype"))
    shape = data.get("shape")
    if type(shape) is not list or len(shape) > MAX_NDIM or any(type(d) is not int or d < 0 for d in shape):
        raise ProtocolError("array shape is not a list of non-negative integers")
    raw = _buffer(data, buffers)
    if math.prod(shape) * dtype.itemsize != len(raw):
        raise ProtocolError(f"array of shape {shape} and dtype {dtype.str} does not match its "
                            f"{len(raw)} bytes")
    # A fresh, owned, native-endian, plain ndarray: never a view of the wire buffer.
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=True)


# --- frames -----------------------------------------------------------------------------------

def pack_frame(message: dict, buffers: list[bytes]) -> bytes:
    header = dict(message, nbuf=len(buffers))
    raw = json.dumps(header, separators=(",", ":"), allow_nan=True).encode("utf-8")
    if len(raw) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {len(raw)} bytes exceeds {MAX_HEADER_BYTES}")
    parts = [struct.pack("<I", len(raw)), raw]
    total = 0
    for b in buffers:
        if len(b) > MAX_BUFFER_BYTES:
            raise ProtocolError(f"buffer of {len(b)} bytes exceeds {MAX_BUFFER_BYTES}")
        total += len(b)
        if total > MAX_TOTAL_BYTES:
            raise ProtocolError(f"frame exceeds {MAX_TOTAL_BYTES} bytes")
        parts.append(struct.pack("<Q", len(b)))
        parts.append(b)
    return b"".join(parts)


def parse_header(raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError("header is not UTF-8 JSON") from None
    if type(header) is not dict:
        raise ProtocolError("header is not a JSON object")
    nbuf = header.get("nbuf")
    if type(nbuf) is not int or not 0 <= nbuf <= MAX_BUFFERS:
        raise ProtocolError("header has no valid buffer count")
    return header


class FrameReader:
    """Reads frames from a file descriptor with a deadline; never waits for end-of-file."""

    def __init__(self, fd: int):
        self.fd = fd
        self._pending = bytearray()

    def _read_exact(self, n: int, deadline: float | None) -> bytes:
        while len(self._pending) < n:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Timeout("no reply before the deadline")
                ready, _, _ = select.select([self.fd], [], [], remaining)
                if not ready:
                    raise Timeout("no reply before the deadline")
            try:
                chunk = os.read(self.fd, min(1 << 20, max(n - len(self._pending), 1 << 16)))
            except OSError as e:
                raise PeerClosed(f"channel read failed: {e}") from None
            if not chunk:
                raise PeerClosed("the other side closed the channel")
            self._pending += chunk
        out = bytes(self._pending[:n])
        del self._pending[:n]
        return out

    def read(self, deadline: float | None = None) -> tuple[dict, list[bytes]]:
        (size,) = struct.unpack("<I", self._read_exact(4, deadline))
        if size > MAX_HEADER_BYTES:
            raise ProtocolError(f"header of {size} bytes exceeds {MAX_HEADER_BYTES}")
        header = parse_header(self._read_exact(size, deadline))
        buffers, total = [], 0
        for _ in range(header["nbuf"]):
            (blen,) = struct.unpack("<Q", self._read_exact(8, deadline))
            total += blen
            if blen > MAX_BUFFER_BYTES or total > MAX_TOTAL_BYTES:
                raise ProtocolError(f"buffer of {blen} bytes exceeds the cap")
            buffers.append(self._read_exact(blen, deadline))
        return header, buffers


def write_frame(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write all of ``data``; with a deadline, a peer that stops reading cannot block us forever."""
    view = memoryview(data)
    while view:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout("the other side stopped reading")
            _, ready, _ = select.select([], [fd], [], remaining)
            if not ready:
                raise Timeout("the other side stopped reading")
        try:
            n = os.write(fd, view[: 1 << 16] if deadline is not None else view)
        except (BrokenPipeError, OSError) as e:
            raise PeerClosed(f"channel write failed: {e}") from None
        view = view[n:]
