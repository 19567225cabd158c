"""Hand-made traces for the tests of the reader's and replay's limits: what
kvmtrace's own writer never writes.  Version 1 traces (records, as 1.0 and
1.1 wrote them) and version 2 traces whose event frames hold plain records
only (docs/trace-format.md), compressed through libzstd with its content
checksum and size, as the format asks."""
import ctypes
import struct

_z = ctypes.CDLL("libzstd.so.1")
_z.ZSTD_createCCtx.restype = ctypes.c_void_p
_z.ZSTD_freeCCtx.argtypes = [ctypes.c_void_p]
_z.ZSTD_CCtx_setParameter.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_z.ZSTD_compressBound.restype = ctypes.c_size_t
_z.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
_z.ZSTD_compress2.restype = ctypes.c_size_t
_z.ZSTD_compress2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                              ctypes.c_char_p, ctypes.c_size_t]
_z.ZSTD_findFrameCompressedSize.restype = ctypes.c_size_t
_z.ZSTD_findFrameCompressedSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_z.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
_z.ZSTD_getFrameContentSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_z.ZSTD_decompress.restype = ctypes.c_size_t
_z.ZSTD_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                               ctypes.c_size_t]
_z.ZSTD_isError.argtypes = [ctypes.c_size_t]

ZSTD_C_LEVEL, ZSTD_C_CONTENT_SIZE, ZSTD_C_CHECKSUM = 100, 200, 201

REC_HEADER, REC_IOCTL, REC_SNAPSHOT, REC_MEMWRITE, REC_DIGEST, REC_END = range(1, 7)
FD_SYSTEM, FD_VM, FD_VCPU = range(3)
FRAME_MAGIC = 0x3246544B  # "KTF2"
OP_PLAIN = 0x3F

# linux/kvm.h request numbers the tests use
KVM_CREATE_VM = 0xAE01
KVM_CREATE_VCPU = 0xAE41
KVM_SET_USER_MEMORY_REGION = 0x4020AE46
KVM_RUN = 0xAE80


def zframe(content, level=1):
    """One zstd frame with content size and checksum."""
    cctx = _z.ZSTD_createCCtx()
    try:
        for param, value in ((ZSTD_C_LEVEL, level), (ZSTD_C_CONTENT_SIZE, 1),
                             (ZSTD_C_CHECKSUM, 1)):
            _z.ZSTD_CCtx_setParameter(cctx, param, value)
        bound = _z.ZSTD_compressBound(len(content))
        out = ctypes.create_string_buffer(bound)
        n = _z.ZSTD_compress2(cctx, out, bound, content, len(content))
        assert not _z.ZSTD_isError(n)
        return out.raw[:n]
    finally:
        _z.ZSTD_freeCCtx(cctx)


def frames(data):
    """[(offset, compressed size, content)] of a file's zstd frames."""
    out, pos = [], 0
    while pos < len(data):
        n = _z.ZSTD_findFrameCompressedSize(data[pos:], len(data) - pos)
        if _z.ZSTD_isError(n):
            break
        size = _z.ZSTD_getFrameContentSize(data[pos:pos + n], n)
        buf = ctypes.create_string_buffer(max(size, 1))
        assert _z.ZSTD_decompress(buf, size, data[pos:pos + n], n) == size
        out.append((pos, n, buf.raw[:size]))
        pos += n
    return out


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def record(rtype, body, vcpu=0, flags=0):
    return struct.pack("<BBHI", rtype, flags, vcpu, len(body)) + pad8(body)


def tlv(tag, data):
    return struct.pack("<HHI", tag, 0, len(data)) + data


def header_tlv(fields=None):
    body = tlv(1, b"handmade")  # kvmtrace version
    for tag, data in fields or []:
        body += tlv(tag, data)
    return body


def magic(major, minor):
    return b"KVMTRACE" + struct.pack("<HHI", major, minor, 0)


def ioctl_body(request, role=FD_VM, ret=0, err=0, in_bytes=b"", out_bytes=b"", t=0, dur=0):
    return struct.pack("<B3xIqiIIIQQ", role, request, ret, err, len(in_bytes),
                       len(out_bytes), 0, t, dur) + in_bytes + out_bytes


def memwrite_body(gpa, data):
    return struct.pack("<Q", gpa) + data


def end_body(events, exits=0, reason=1, status=0):
    return struct.pack("<IiQQ", reason, status, events, exits)


def trace_v1(frames_of_records, header=None, minor=1):
    """A version 1 trace: frames_of_records is a list of lists of records."""
    out = zframe(magic(1, minor) + record(REC_HEADER, header or header_tlv()))
    for recs in frames_of_records:
        out += zframe(b"".join(recs))
    return out


def frame_v2(first_event, plain_records):
    """A version 2 event frame of plain records only (op KT_OP_PLAIN)."""
    ops = pad8(bytes([OP_PLAIN]) * len(plain_records))
    raw = b"".join(plain_records)
    lens = [len(ops), 0, len(raw), 0, 0, 0]  # ops keys raw changes words clocks
    head = struct.pack("<IIQ6I", FRAME_MAGIC, len(plain_records), first_event, *lens)
    return head + ops + raw


def trace_v2(frames_of_records, header=None):
    out = zframe(magic(2, 0) + record(REC_HEADER, header or header_tlv()))
    first = 0
    for recs in frames_of_records:
        out += zframe(frame_v2(first, recs))
        first += len(recs)
    return out


def bomb(version, records, size=15 << 20):
    """A memory-write bomb: records MEMWRITEs of size zero bytes at the
    start (a frame each), then END.  zstd makes each a few hundred bytes.
    Built one record at a time, so this process stays small."""
    trace = trace_v1 if version == 1 else trace_v2
    out = trace([])
    first = 0
    for i in range(records + 1):
        rec = (record(REC_MEMWRITE, memwrite_body(0x1000 * i, bytes(size))) if i < records
               else record(REC_END, end_body(records)))
        out += zframe(rec if version == 1 else frame_v2(first, [rec]))
        first += 1
    return out


if __name__ == "__main__":
    # tracegen.py bomb VERSION RECORDS OUT: made in a process of its own,
    # since a process that once held 15 MiB buffers passes its peak RSS on
    # to the children it starts afterwards, which would spoil their figures.
    import sys

    _, what, version, records, path = sys.argv
    assert what == "bomb"
    with open(path, "wb") as f:
        f.write(bomb(int(version), int(records)))
