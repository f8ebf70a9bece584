"""Messages between the grader and a sandboxed process: a JSON header and raw numeric arrays, bounded.

One frame is ``MAGIC`` (4 bytes), the header's length (4 bytes, big-endian), the header (UTF-8 JSON, an
object) and then the bytes of the arrays it declares, in order. The header lists each array as
``[name, dtype, shape]`` under ``"arrays"``; everything else in it is plain JSON.

Whatever a sandboxed process sends is an adversary's data. :class:`Decoder` reads a header only up to
``max_header`` bytes, hands it to an ``accept`` check before a single payload byte is kept (so a header
that claims terabytes, or shapes the caller did not ask for, costs nothing), allows plain numeric dtypes
only and never unpickles anything. This module runs on both sides (standard library and numpy only): the
grader imports it, and it is copied into the sandbox next to the scripts that use it.
"""

import json
import struct

import numpy as np

MAGIC = b"CSF1"
PREFIX = struct.Struct(">4sI")
# bool, signed and unsigned integers and floats of at most 8 bytes; never objects, strings or structs.
ALLOWED_KINDS = "biuf"


class FrameError(ValueError):
    """A frame broke the format or its limits; the message says how (for the grading notes)."""


def describe(array):
    """``[dtype, shape]`` of an array as a header lists it."""
    return [array.dtype.str, list(array.shape)]


def encode(header, arrays=None):
    """One frame: ``header`` (a JSON object) plus ``arrays`` (name to ndarray), as bytes."""
    arrays = {name: np.asarray(value, order="C") for name, value in (arrays or {}).items()}  # keeps 0-d arrays 0-d
    header = dict(header, arrays=[[name, *describe(value)] for name, value in arrays.items()])
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return PREFIX.pack(MAGIC, len(text)) + text + b"".join(value.tobytes() for value in arrays.values())


def _layout(header, max_payload):
    """The declared arrays as ``(name, dtype, shape, nbytes)`` and their total size; raise on anything odd."""
    declared = header.get("arrays", [])
    if not isinstance(declared, list):
        raise FrameError("the header's arrays are not a list")
    layout, total, names = [], 0, set()
    for entry in declared:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                and isinstance(entry[1], str) and isinstance(entry[2], list)):
            raise FrameError("an array entry is not [name, dtype, shape]")
        name, dtype_text, shape = entry
        if name in names:
            raise FrameError(f"array {name[:40]!r} is declared twice")
        names.add(name)
        try:
            dtype = np.dtype(dtype_text)
        except TypeError:
            raise FrameError(f"array {name[:40]!r} has an unknown dtype {dtype_text[:20]!r}") from None
        if dtype.kind not in ALLOWED_KINDS or dtype.itemsize > 8 or dtype.fields is not None:
            raise FrameError(f"array {name[:40]!r} has dtype {dtype_text[:20]!r}; only numbers are accepted")
        if len(shape) > 8 or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape):
            raise FrameError(f"array {name[:40]!r} has an invalid shape")
        nbytes = dtype.itemsize
        for n in shape:
            nbytes *= n
            if nbytes > max_payload:
                break
        total += nbytes
        if total > max_payload:
            raise FrameError(f"the arrays declare more than {max_payload} bytes")
        layout.append((name, dtype, tuple(shape), nbytes))
    return layout, total


class Decoder:
    """Cut a byte stream into frames, within limits, calling ``accept(header)`` before any payload is kept.

    Parameters
    ----------
    max_header : int
        Largest header in bytes.
    max_payload : int
        Largest total of one frame's arrays in bytes (checked on the declared shapes, before reading).
    accept : callable, optional
        ``accept(header)`` raises :class:`FrameError` for a header the caller did not ask for (wrong keys,
        shapes or dtypes); it runs before the payload is read.
    """

    def __init__(self, max_header=1 << 16, max_payload=64 << 20, accept=None):
        self.max_header, self.max_payload, self.accept = max_header, max_payload, accept
        self._buffer = bytearray()
        self._pending = None  # (header, layout, payload size) once a header has been accepted

    def feed(self, data):
        """Add received bytes; return the frames they complete as ``(header, {name: ndarray})`` pairs."""
        self._buffer += data
        frames = []
        while True:
            if self._pending is None:
                if len(self._buffer) < PREFIX.size:
                    break
                magic, length = PREFIX.unpack_from(self._buffer)
                if magic != MAGIC:
                    raise FrameError("the stream does not start a frame (something else was written to it)")
                if length > self.max_header:
                    raise FrameError(f"a header of {length} bytes is over the limit of {self.max_header}")
                if len(self._buffer) < PREFIX.size + length:
                    break
                try:
                    header = json.loads(bytes(self._buffer[PREFIX.size:PREFIX.size + length]).decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise FrameError("a header is not JSON") from None
                if not isinstance(header, dict):
                    raise FrameError("a header is not a JSON object")
                layout, size = _layout(header, self.max_payload)
                if self.accept is not None:
                    self.accept(header)
                del self._buffer[:PREFIX.size + length]
                self._pending = (header, layout, size)
            header, layout, size = self._pending
            if len(self._buffer) < size:
                break
            arrays, offset = {}, 0
            for name, dtype, shape, nbytes in layout:
                raw = bytes(self._buffer[offset:offset + nbytes])
                arrays[name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
                offset += nbytes
            del self._buffer[:size]
            self._pending = None
            frames.append((header, arrays))
        return frames

    def waiting(self):
        """Bytes received that belong to no complete frame yet."""
        return len(self._buffer)


def read_frame(stream, max_header=1 << 16, max_payload=1 << 30):
    """Read one whole frame from a binary ``stream`` (blocking); ``None`` at a clean end of stream.

    For the sandboxed side, which trusts the grader's frames but still refuses malformed ones.
    """
    decoder = Decoder(max_header, max_payload)
    while True:
        wanted = PREFIX.size if decoder.waiting() < PREFIX.size else 1 << 16
        data = stream.read1(wanted) if hasattr(stream, "read1") else stream.read(wanted)
        if not data:
            if decoder.waiting():
                raise FrameError("the stream ended inside a frame")
            return None
        frames = decoder.feed(data)
        if frames:
            if decoder.waiting():
                raise FrameError("more than one frame arrived at once")
            return frames[0]
