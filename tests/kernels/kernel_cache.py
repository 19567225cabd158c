"""Find, fetch and unpack the Debian kernels the runner boots.

A series from kernels.conf (`6.12`) resolves to the newest matching
linux-image package the apt archive has.  Its .deb is fetched with
`apt-get download`, and only what a boot needs is kept in the cache: the
kernel image and the modules for KVM, 9p and virtio-serial with everything
they depend on, decompressed (busybox insmod cannot read .ko.xz/.ko.zst).
Every step that fills the cache runs under a file lock, since pytest-xdist
workers may prepare the same kernel at once.
"""
import contextlib
import fcntl
import functools
import gzip
import hashlib
import json
import lzma
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
CONF = HERE / "kernels.conf"

# Modules every guest loads (if not built in), then one set per CPU vendor:
# TCG's `-cpu max` emulates SVM; a nested KVM host may offer VMX instead.
BASE_MODULES = ("virtio_pci", "virtio_console", "9pnet_virtio", "9p", "kvm")
VENDOR_MODULES = {"amd": ("kvm_amd",), "intel": ("kvm_intel",)}

KO_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")


class KernelError(Exception):
    """A kernel cannot be resolved, fetched or unpacked; the message says why."""


def cache_root():
    env = os.environ.get("KVMTRACE_KERNEL_CACHE")
    root = pathlib.Path(env) if env else pathlib.Path.home() / ".cache/kvmtrace/kernels"
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def locked(name):
    """Hold an exclusive lock named `name` in the cache (across processes)."""
    locks = cache_root() / ".locks"
    locks.mkdir(exist_ok=True)
    with open(locks / (name + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --- kernels.conf -----------------------------------------------------------

def read_series(conf=CONF):
    """[(name, pattern)] in file order; the first is the default kernel."""
    out = []
    for n, line in enumerate(pathlib.Path(conf).read_text().splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2:
            raise KernelError(f"{conf}:{n}: want 'SERIES PACKAGE-PATTERN', got {line!r}")
        out.append((words[0], words[1]))
    if not out:
        raise KernelError(f"{conf}: no kernel series configured")
    return out


def pattern_regex(pattern):
    """A kernels.conf pattern as a regex: `*` is a version number only."""
    parts = (re.escape(p) for p in pattern.split("*"))
    return re.compile("^" + r"[0-9][0-9.]*".join(parts) + "$")


# --- Debian version order: dpkg's own (deb-version(7)) ----------------------

def _dpkg_says(a, op, b):
    r = subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise KernelError(f"dpkg --compare-versions {a} {op} {b}: {r.stderr.strip()}")
    return r.returncode == 0


def compare_versions(a, b):
    """-1, 0 or 1 as Debian version a sorts before, equal to, after b."""
    if _dpkg_says(a, "lt", b):
        return -1
    return 0 if _dpkg_says(a, "eq", b) else 1


def _newer(a, b):
    """Whether (package, version) a beats b: higher version, ties by name."""
    order = compare_versions(a[1], b[1])
    return order > 0 or (order == 0 and a[0] > b[0])


def newest(candidates):
    """The (package, version) with the highest version; ties by name."""
    best = None
    for c in candidates:
        if best is None or _newer(c, best):
            best = c
    return best


# --- resolving a series against the archive ---------------------------------

def _apt(*argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise KernelError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def archive_candidates(pattern):
    """[(package, version)] the archive offers for a kernels.conf pattern."""
    rx = pattern_regex(pattern)
    prefix = pattern.split("*", 1)[0]
    names = sorted(n for n in _apt("apt-cache", "pkgnames", prefix).split() if rx.match(n))
    if not names:
        return []
    out = []
    for line in _apt("apt-cache", "madison", *names).splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) >= 2 and rx.match(fields[0]):
            out.append((fields[0], fields[1]))
    return out


def _apt_update_once():
    if os.geteuid() != 0 or os.environ.get("KVMTRACE_NO_APT_UPDATE"):
        return False
    with locked("apt-update"):
        subprocess.run(["apt-get", "update", "-q"], capture_output=True)
    return True


@functools.lru_cache(maxsize=None)
def resolve(series):
    """(package, version) for a series name from kernels.conf.

    Without apt lists (a fresh machine never ran `apt-get update`) the
    archive is refreshed once when we are root; offline, the newest kernel
    already in the cache serves.
    """
    conf = dict(read_series())
    if series not in conf:
        raise KernelError(f"unknown kernel series {series!r}; configured: "
                          f"{', '.join(conf)} ({CONF})")
    pattern = conf[series]
    found = newest(archive_candidates(pattern))
    if not found and _apt_update_once():
        found = newest(archive_candidates(pattern))
    if not found:
        found = newest(cached_candidates(pattern))
    if not found:
        raise KernelError(f"kernel series {series}: no package matching {pattern} "
                          "in the apt archive (run apt-get update?) nor in the cache")
    return found


def cached_candidates(pattern):
    rx = pattern_regex(pattern)
    out = []
    for info in cache_root().glob("*/info.json"):
        meta = json.loads(info.read_text())
        if rx.match(meta.get("package", "")):
            out.append((meta["package"], meta["version"]))
    return out


# --- module files -----------------------------------------------------------

def module_name(path):
    name = pathlib.Path(path).name
    for suffix in KO_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("-", "_")


def read_module(path):
    """The module's ELF bytes, decompressed (busybox insmod reads no other)."""
    path = pathlib.Path(path)
    if path.name.endswith(".xz"):
        return lzma.decompress(path.read_bytes())
    if path.name.endswith(".gz"):
        return gzip.decompress(path.read_bytes())
    if path.name.endswith(".zst"):
        r = subprocess.run(["zstd", "-dc", str(path)], capture_output=True)
        if r.returncode != 0:
            raise KernelError(f"zstd -d {path}: {r.stderr.decode(errors='replace').strip()}")
        return r.stdout
    return path.read_bytes()


def modinfo(path, field):
    """A field of a module file's metadata, as modinfo (kmod) reads it:
    one value a line (`depends` is one comma-separated line)."""
    tool = shutil.which("modinfo", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if tool is None:
        raise KernelError("modinfo not found (install kmod)")
    r = subprocess.run([tool, "-F", field, str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        raise KernelError(f"modinfo -F {field} {path}: {r.stderr.strip()}")
    return r.stdout.splitlines()


def module_depends(path):
    return [d for line in modinfo(path, "depends") for d in line.split(",") if d]


def module_index(moddir):
    """{module name: path} for every module file under moddir."""
    index = {}
    for root, _, files in os.walk(moddir):
        for f in files:
            if f.endswith(KO_SUFFIXES):
                index.setdefault(module_name(f), pathlib.Path(root) / f)
    return index


def builtin_modules(moddir):
    path = pathlib.Path(moddir) / "modules.builtin"
    if not path.exists():
        return set()
    return {module_name(line.strip()) for line in path.read_text().splitlines() if line.strip()}


def module_closure(wanted, index, builtin, loaded, outdir):
    """The wanted modules and their dependencies, dependencies first,
    skipping built-in and loaded ones; each is written to outdir as NAME.ko."""
    order = []
    for name in wanted:
        if name in builtin or name in loaded:
            continue
        if name not in index:
            raise KernelError(f"module {name} is neither built in nor in the modules dir")
        loaded.add(name)
        ko = pathlib.Path(outdir) / f"{name}.ko"
        ko.write_bytes(read_module(index[name]))
        order += module_closure(module_depends(ko), index, builtin, loaded, outdir)
        order.append(name)
    return order


def collect_modules(moddir, outdir):
    """Write the modules a guest needs into outdir, plus load.list: one
    `GROUP NAME FILE` line each in load order (GROUP base, amd or intel)."""
    index = module_index(moddir)
    builtin = builtin_modules(moddir)
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    lines = []
    base = set()
    groups = [("base", BASE_MODULES)] + list(VENDOR_MODULES.items())
    for group, wanted in groups:
        if not any(m in index or m in builtin for m in wanted):
            if group == "base":
                raise KernelError(f"{moddir}: none of {wanted} here")
            continue  # a kernel built without this vendor's KVM
        # Each vendor set loads on top of the base set, never of another vendor's.
        loaded = base if group == "base" else set(base)
        for name in module_closure(wanted, index, builtin, loaded, outdir):
            lines.append(f"{group} {name} {name}.ko")
    (outdir / "load.list").write_text("".join(line + "\n" for line in lines))


# --- a prepared kernel -----------------------------------------------------

class Kernel:
    """A kernel ready to boot: dir holds vmlinuz, modules/ and info.json."""

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.info = json.loads((self.dir / "info.json").read_text())

    @property
    def image(self):
        return self.dir / "vmlinuz"

    @property
    def modules(self):
        return self.dir / "modules"

    @property
    def release(self):
        return self.info["release"]

    def describe(self):
        if self.info.get("package"):
            return f"{self.info['package']} {self.info['version']}"
        return f"custom {self.info['image']}"


def _release_of(moddir_parent):
    releases = [p.name for p in pathlib.Path(moddir_parent).iterdir() if p.is_dir()]
    if len(releases) != 1:
        raise KernelError(f"{moddir_parent}: expected one kernel release, found {releases}")
    return releases[0]


def _publish(tmp, final):
    """Move a finished tmp dir into place (we hold the lock)."""
    if final.exists():
        shutil.rmtree(final)
    os.rename(tmp, final)


def prepare_package(package, version, series=None, log=None):
    """Fetch and unpack one kernel package into the cache; return a Kernel."""
    key = f"{package}_{version}".replace(":", "%3a")
    final = cache_root() / key
    if (final / "info.json").exists():
        return Kernel(final)
    with locked(key):
        if (final / "info.json").exists():
            return Kernel(final)
        work = pathlib.Path(tempfile.mkdtemp(prefix=".prep-", dir=cache_root()))
        try:
            if log:
                log(f"kvmvm: fetching {package} {version}")
            _apt("sh", "-c", 'cd "$1" && apt-get download -q "$2=$3"', "sh",
                 str(work), package, version)
            debs = list(work.glob("*.deb"))
            if len(debs) != 1:
                raise KernelError(f"apt-get download {package}={version} left {debs}")
            _apt("dpkg-deb", "-x", str(debs[0]), str(work / "x"))
            out = work / "kernel"
            out.mkdir()
            moddirs = work / "x/lib/modules"
            release = _release_of(moddirs)
            shutil.copy(work / "x/boot" / f"vmlinuz-{release}", out / "vmlinuz")
            collect_modules(moddirs / release, out / "modules")
            (out / "info.json").write_text(json.dumps({
                "series": series, "package": package, "version": version,
                "release": release}, indent=1) + "\n")
            _publish(out, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return Kernel(final)


def prepare_series(series, log=None):
    package, version = resolve(series)
    return prepare_package(package, version, series, log)


def prepare_custom(image, moddir):
    """A user-supplied kernel: image plus its lib/modules/RELEASE dir (or
    the lib/modules dir holding exactly one release)."""
    image = pathlib.Path(image).resolve()
    moddir = pathlib.Path(moddir).resolve()
    if not image.is_file():
        raise KernelError(f"--kernel-image {image}: no such file")
    if not moddir.is_dir():
        raise KernelError(f"--modules {moddir}: no such directory")
    if not (moddir / "kernel").is_dir() and not (moddir / "modules.builtin").exists():
        moddir = moddir / _release_of(moddir)
    st = image.stat()
    ident = f"{image}|{st.st_size}|{st.st_mtime_ns}|{moddir}"
    key = "custom-" + hashlib.sha256(ident.encode()).hexdigest()[:16]
    final = cache_root() / key
    if (final / "info.json").exists():
        return Kernel(final)
    with locked(key):
        if not (final / "info.json").exists():
            work = pathlib.Path(tempfile.mkdtemp(prefix=".prep-", dir=cache_root()))
            try:
                work.chmod(0o755)
                shutil.copy(image, work / "vmlinuz")
                collect_modules(moddir, work / "modules")
                (work / "info.json").write_text(json.dumps({
                    "image": str(image), "modules": str(moddir),
                    "release": moddir.name}, indent=1) + "\n")
                _publish(work, final)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
    return Kernel(final)
