"""The guest's initramfs: busybox, the kernel's modules, vm_init.sh as /init
and vm_agent.py, as a gzipped cpio (newc) archive.  Written here rather than
with cpio(1) so it needs no root (device nodes) and is reproducible; cached
beside the kernel under a name hashing everything that goes in."""
import gzip
import hashlib
import os
import pathlib
import stat

import kernel_cache

HERE = pathlib.Path(__file__).resolve().parent
BUSYBOX = pathlib.Path("/usr/bin/busybox")
INIT = HERE / "vm_init.sh"
AGENT = HERE / "vm_agent.py"


class Cpio:
    """A newc cpio archive built in memory."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
                  len(name_b), 0)
        self.ino += 1
        self.out += b"070701" + b"".join(b"%08X" % f for f in fields) + name_b
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return bytes(self.out)


def _contents(kernel):
    """[(kind, name, payload)] for everything in the image, in order."""
    items = [("dir", d, None) for d in ("bin", "dev", "proc", "sys", "host", "modules")]
    items += [("chardev", "dev/console", (5, 1)), ("chardev", "dev/null", (1, 3))]
    items += [("file", "bin/busybox", (BUSYBOX.read_bytes(), 0o755)),
              ("symlink", "bin/sh", "busybox"),
              ("file", "init", (INIT.read_bytes(), 0o755)),
              ("file", "agent.py", (AGENT.read_bytes(), 0o644))]
    for f in sorted(kernel.modules.iterdir()):
        items.append(("file", f"modules/{f.name}", (f.read_bytes(), 0o644)))
    return items


def _digest(items):
    h = hashlib.sha256()
    for kind, name, payload in items:
        h.update(f"{kind}\0{name}\0".encode())
        if kind == "file":
            h.update(payload[0])
            h.update(b"%o" % payload[1])
        else:
            h.update(repr(payload).encode())
    return h.hexdigest()[:16]


def build(kernel):
    """The path of an initramfs for kernel (a kernel_cache.Kernel)."""
    items = _contents(kernel)
    path = kernel.dir / f"initramfs-{_digest(items)}.cpio.gz"
    if path.exists():
        return path
    with kernel_cache.locked(kernel.dir.name + "-initramfs"):
        if path.exists():
            return path
        archive = Cpio()
        for kind, name, payload in items:
            if kind == "dir":
                archive.dir(name)
            elif kind == "chardev":
                archive.chardev(name, *payload)
            elif kind == "symlink":
                archive.symlink(name, payload)
            else:
                archive.file(name, *payload)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(gzip.compress(archive.finish(), compresslevel=6, mtime=0))
        for old in kernel.dir.glob("initramfs-*.cpio.gz"):
            old.unlink()
        os.rename(tmp, path)
    return path
