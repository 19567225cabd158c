"""The kernel runner (tests/kernels/kvmvm.py) itself: that each configured
kernel boots with a working /dev/kvm, runs commands with exact output and
status, survives a command's timeout and shares the repo read-write at the
same path.  The first tests need no VM: series resolution and the archive
format the initramfs is written in."""
import os
import pathlib
import shutil
import subprocess
import time

import pytest

import initramfs
import kernel_cache
import kvmhost

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMVM = REPO / "tests" / "kernels" / "kvmvm.py"

# --- no VM needed -------------------------------------------------------------


@pytest.mark.parametrize("older,newer", [
    ("6.1.170-3", "6.1.192-2"),
    ("6.12.117-1~deb12u1", "6.12.117-1"),
    ("1.0~rc1", "1.0"),
    ("1.0", "1.0a"),
    ("1.0a", "1.0+b1"),
    ("2.0-1", "1:1.0-1"),
    ("6.1.9-1", "6.1.10-1"),
])
def test_debian_version_order(older, newer):
    assert kernel_cache.compare_versions(older, newer) == -1
    assert kernel_cache.compare_versions(newer, older) == 1
    assert kernel_cache.compare_versions(newer, newer) == 0


def test_newest_package_wins_regardless_of_listing_order():
    offers = [("linux-image-6.1.0-9-amd64-unsigned", "6.1.27-1"),
              ("linux-image-6.1.0-56-amd64-unsigned", "6.1.192-2"),
              ("linux-image-6.1.0-47-amd64-unsigned", "6.1.170-3")]
    assert kernel_cache.newest(offers) == offers[1]
    assert kernel_cache.newest(list(reversed(offers))) == offers[1]
    assert kernel_cache.newest([]) is None


def test_patterns_skip_other_flavours():
    rx = kernel_cache.pattern_regex("linux-image-6.1.0-*-amd64-unsigned")
    assert rx.match("linux-image-6.1.0-56-amd64-unsigned")
    assert not rx.match("linux-image-6.1.0-56-cloud-amd64-unsigned")
    assert not rx.match("linux-image-6.1.0-56-rt-amd64-unsigned")
    rx = kernel_cache.pattern_regex("linux-image-6.12.*+deb12-amd64-unsigned")
    assert rx.match("linux-image-6.12.117+deb12-amd64-unsigned")
    assert not rx.match("linux-image-6.12.117+deb12-cloud-amd64-unsigned")


def test_kernels_conf_lists_the_series(kernel_series):
    configured = [name for name, _ in kernel_cache.read_series()]
    assert configured[:2] == ["6.1", "6.12"]
    assert set(kernel_series) <= set(configured)


def test_kernels_conf_rejects_malformed_lines(tmp_path):
    conf = tmp_path / "kernels.conf"
    conf.write_text("# comment\n6.1 linux-image-6.1.0-*-amd64-unsigned extra\n")
    with pytest.raises(kernel_cache.KernelError, match=r"kernels.conf:2"):
        kernel_cache.read_series(conf)


def test_initramfs_archive_unpacks_with_cpio(tmp_path):
    archive = initramfs.Cpio()
    archive.dir("bin")
    archive.file("bin/hello", b"#!/bin/sh\necho hi\n", 0o755)
    archive.file("odd", b"x" * 5)
    archive.symlink("bin/sh", "hello")
    (tmp_path / "a.cpio").write_bytes(archive.finish())
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run(["cpio", "-idm", "--quiet", "-F", str(tmp_path / "a.cpio")],
                       cwd=out, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (out / "bin/hello").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert os.access(out / "bin/hello", os.X_OK)
    assert (out / "odd").read_bytes() == b"xxxxx"
    assert os.readlink(out / "bin/sh") == "hello"


def test_modules_listed_after_their_dependencies(runner_series):
    kernel = kernel_cache.prepare_series(runner_series)
    assert "kvm" in kernel_cache.module_depends(kernel.modules / "kvm_amd.ko")
    vermagic = kernel_cache.modinfo(kernel.modules / "kvm_amd.ko", "vermagic")
    assert vermagic[0].split()[0] == kernel.release
    builtin_or_earlier = set()
    for line in (kernel.modules / "load.list").read_text().splitlines():
        group, name, file = line.split()
        for dep in kernel_cache.module_depends(kernel.modules / file):
            assert dep in builtin_or_earlier or not (kernel.modules / f"{dep}.ko").exists(), \
                f"{name} listed before its dependency {dep}"
        builtin_or_earlier.add(name)


# --- in each configured kernel ---------------------------------------------------


@pytest.mark.kvm
def test_dev_kvm_inside(qemu_kernel):
    r = qemu_kernel.sh("stat -c '%F %t:%T' /dev/kvm")
    assert (r.returncode, r.stdout) == (0, "character special file a:e8\n"), r.stderr


@pytest.mark.kvm
def test_uname_matches_package(qemu_kernel):
    info = qemu_kernel.vm.kernel.info
    release = qemu_kernel.sh("uname -r").stdout.strip()
    assert release == info["release"]
    assert info["package"] == f"linux-image-{release}-unsigned"
    assert info["package"] in qemu_kernel.version and info["version"] in qemu_kernel.version


@pytest.mark.kvm
def test_streams_and_status_exact(qemu_kernel):
    r = qemu_kernel.exec(["sh", "-c", "printf out; printf err >&2; exit 3"], text=False)
    assert (r.returncode, r.stdout, r.stderr) == (3, b"out", b"err")
    every_byte = bytes(range(256)) * 64
    r = qemu_kernel.sh("cat; printf '\\000\\377\\r\\n' >&2", input=every_byte, text=False)
    assert (r.returncode, r.stdout, r.stderr) == (0, every_byte, b"\0\xff\r\n")


@pytest.mark.kvm
def test_argv_not_reinterpreted(qemu_kernel):
    args = ["a b", "", "'q'", "$HOME", "*", "tab\there", "é"]
    r = qemu_kernel.exec(["printf", "[%s]", *args])
    assert r.stdout == "".join(f"[{a}]" for a in args)


@pytest.mark.kvm
def test_signal_status_and_missing_program(qemu_kernel):
    assert qemu_kernel.sh("kill -9 $$").returncode == -9
    with pytest.raises(FileNotFoundError):
        qemu_kernel.exec(["/nonexistent/program"])


@pytest.mark.kvm
def test_cwd_and_env(qemu_kernel, tmp_path):
    r = qemu_kernel.sh('pwd; echo "$KVMVM_PROBE"', cwd=tmp_path, env={"KVMVM_PROBE": "x y"})
    assert r.stdout == f"{tmp_path}\nx y\n"


@pytest.mark.kvm
def test_timeout_kills_command_not_vm(qemu_kernel):
    began = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired) as caught:
        qemu_kernel.sh("echo started; sleep 60 & sleep 61; echo never", timeout=1)
    assert time.monotonic() - began < 15
    assert caught.value.output == "started\n"
    # Nothing of the command is left, and the VM goes on answering.
    r = qemu_kernel.sh("cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^sleep$'")
    assert r.stdout.strip() == "0"
    assert qemu_kernel.sh("echo alive").stdout == "alive\n"


@pytest.mark.kvm
def test_repo_shared_read_write_at_same_path(qemu_kernel, tmp_path):
    assert str(tmp_path).startswith(str(REPO))
    this = pathlib.Path(__file__)
    r = qemu_kernel.exec(["sha256sum", this])
    assert r.stdout.split()[0] == subprocess.run(
        ["sha256sum", this], capture_output=True, text=True).stdout.split()[0]
    (tmp_path / "h").write_text("from-host")
    r = qemu_kernel.sh(f"printf from-guest > '{tmp_path}/g' && cat '{tmp_path}/h'")
    assert (r.returncode, r.stdout) == (0, "from-host")
    assert (tmp_path / "g").read_text() == "from-guest"
    # The rest of the host is there read-only.
    r = qemu_kernel.sh("touch /usr/kvmvm-probe")
    assert r.returncode != 0 and "Read-only file system" in r.stderr


@pytest.mark.kvm
def test_kvmtrace_binary_runs_inside(qemu_kernel, kvmtrace_bin):
    if not kvmtrace_bin.exists():
        pytest.fail(f"{kvmtrace_bin} not built (make; KVMTRACE_BIN names another)")
    r = qemu_kernel.run(["--version"])
    assert r.returncode == 0 and r.stdout.startswith("kvmtrace"), r.stderr


@pytest.mark.kvm
def test_command_latency(qemu_kernel, record_property):
    lat = []
    for _ in range(100):
        began = time.monotonic()
        assert qemu_kernel.exec(["true"]).returncode == 0
        lat.append(time.monotonic() - began)
    mean = sum(lat) / len(lat)
    record_property("true_latency_ms", round(mean * 1000, 1))
    print(f"{qemu_kernel.version}: 100 x true, mean {mean * 1000:.1f} ms, "
          f"max {max(lat) * 1000:.1f} ms")
    # A figure, not a pass mark: speed targets live in `make bench`.


# --- the CLI ----------------------------------------------------------------------


def kvmvm_cli(*args, timeout=600):
    return subprocess.run(["/usr/bin/python3", str(KVMVM), *args], capture_output=True,
                          timeout=timeout, cwd=REPO)


def test_cli_list():
    r = kvmvm_cli("list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == [n for n, _ in kernel_cache.read_series()]
    assert all("->  linux-image-" in line for line in lines)


def test_cli_run_without_command():
    r = kvmvm_cli("run", "--kernel", "6.1")
    assert r.returncode == 2 and b"no command given" in r.stderr


def test_cli_unknown_series():
    r = kvmvm_cli("run", "--kernel", "2.4", "--", "true")
    assert r.returncode == 125 and b"unknown kernel series '2.4'" in r.stderr


@pytest.mark.kvm
def test_cli_run_auto(runner_series):
    # auto: native where /dev/kvm is usable, else the first series.
    r = kvmvm_cli("run", "--kernel", "auto", "--", "sh", "-c",
                  "test -c /dev/kvm; printf out; printf 'err\\n' >&2; exit 5")
    assert r.returncode == 5
    assert r.stdout == b"out"
    err = r.stderr.decode()
    assert err.startswith("err\nkernel: "), err
    if kvmhost.kvm_usable():
        assert err == f"err\nkernel: {kvmhost.describe()}\n"
    else:
        package, version = kernel_cache.resolve(runner_series)
        assert f"{package} {version}" in err
        assert "; accel tcg: host /dev/kvm unusable (" in err, err


@pytest.mark.kvm
def test_cli_kernel_line_names_the_accelerator_and_why(runner_series, monkeypatch):
    monkeypatch.setenv("KVMTRACE_ACCEL", "tcg")
    r = kvmvm_cli("run", "--kernel", runner_series, "--", "true")
    assert r.returncode == 0, r.stderr
    line = r.stderr.decode().splitlines()[-1]
    assert line.startswith("kernel: linux-image-") and " boot " in line, line
    assert line.endswith("; accel tcg: forced by KVMTRACE_ACCEL=tcg"), line


def test_cli_bad_accel_is_one_line(monkeypatch):
    monkeypatch.setenv("KVMTRACE_ACCEL", "fast")
    r = kvmvm_cli("run", "--kernel", "6.1", "--", "true")
    assert r.returncode == 125
    assert r.stderr.decode().splitlines() == ["kvmvm: KVMTRACE_ACCEL='fast': want kvm or tcg"]


def test_make_vm_needs_a_command():
    if shutil.which("make") is None:
        pytest.fail("make not installed")
    r = subprocess.run(["make", "-s", "vm"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode != 0 and "usage: make vm" in r.stderr
