"""How the kernel runner decides between `-accel kvm` and TCG, and what
counts as a usable /dev/kvm (tests/kernels/accel.py, kvmhost.py).

The probe is tested on any host with a fake QEMU (KVMTRACE_QEMU-style
wrapper scripts) that fails, or pretends to succeed, under `-accel kvm`,
while the host's /dev/kvm is declared usable; the decision cache goes to a
temporary directory so the host's own decision is left alone."""
import json
import pathlib
import shutil
import stat

import pytest

import accel
import kvmhost
import kvmvm

REAL_QEMU = shutil.which(kvmvm.QEMU) or kvmvm.QEMU


def fake_qemu(tmp_path, when_kvm):
    """A QEMU that logs each command line, and under -accel kvm runs the
    shell snippet when_kvm ("$@" holds the arguments)."""
    script = tmp_path / "fake-qemu"
    log = tmp_path / "fake-qemu.log"
    script.write_text(f"""#!/bin/sh
echo "$*" >> '{log}'
case " $* " in
*" -accel kvm "*) {when_kvm} ;;
esac
exec '{REAL_QEMU}' "$@"
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def swap(rewrites):
    """A snippet that runs the real QEMU with arguments rewritten: {shell
    pattern: replacement}, where $a in the replacement is the argument."""
    cases = " ".join(f'{old}) a="{new}" ;;' for old, new in rewrites.items())
    return (f'n=$#; for a do case $a in {cases} esac; set -- "$@" "$a"; done; '
            f'shift $n; exec \'{REAL_QEMU}\' "$@"')


@pytest.fixture
def probe_host(tmp_path, monkeypatch):
    """This host as one whose /dev/kvm works, with its own decision cache."""
    monkeypatch.setattr(kvmhost, "kvm_problem", lambda path="/dev/kvm": "")
    monkeypatch.setenv("KVMTRACE_ACCEL_CACHE", str(tmp_path / "accel"))
    monkeypatch.delenv("KVMTRACE_ACCEL", raising=False)
    return tmp_path / "accel"


def decide(series, qemu):
    return kvmvm.KernelVM(series, qemu=str(qemu)).decide_accel()


def test_usable_kvm_means_api_12_and_a_vm(tmp_path):
    # /dev/null opens read-write like /dev/kvm but is no KVM.
    assert kvmhost.kvm_problem("/dev/null") == \
        "/dev/null: KVM_GET_API_VERSION: Inappropriate ioctl for device"
    assert not kvmhost.kvm_usable("/dev/null")
    assert kvmhost.kvm_problem(str(tmp_path / "none")) == \
        f"open {tmp_path / 'none'}: No such file or directory"
    # The host's own answer agrees with itself either way.
    assert kvmhost.kvm_usable() == (kvmhost.kvm_problem() == "")


def test_accel_forced_by_environment(monkeypatch):
    def probe():
        raise AssertionError("a forced choice must not probe")
    for value in ("tcg", "kvm"):
        monkeypatch.setenv("KVMTRACE_ACCEL", value)
        got = accel.choose("some kernel", kvmvm.QEMU, probe)
        assert got == accel.Accel(value, f"forced by KVMTRACE_ACCEL={value}")
        assert got.line() == f"accel {value}: forced by KVMTRACE_ACCEL={value}"
    monkeypatch.setenv("KVMTRACE_ACCEL", "fast")
    with pytest.raises(accel.AccelError, match=r"^KVMTRACE_ACCEL='fast': want kvm or tcg$"):
        accel.choose("some kernel", kvmvm.QEMU, probe)


def test_no_probe_without_a_usable_host_kvm(monkeypatch):
    monkeypatch.delenv("KVMTRACE_ACCEL", raising=False)
    monkeypatch.setattr(kvmhost, "kvm_problem", lambda path="/dev/kvm": "open /dev/kvm: gone")
    got = accel.choose("some kernel", kvmvm.QEMU, lambda: pytest.fail("probed"))
    assert got.line() == "accel tcg: host /dev/kvm unusable (open /dev/kvm: gone), " \
                         "-accel kvm not tried"


def test_probe_picks_tcg_where_qemu_aborts_under_kvm(tmp_path, probe_host, runner_series):
    # What QEMU 7.2 does on a PVM host: abort setting MSR_IA32_ARCH_CAPABILITIES.
    qemu, log = fake_qemu(tmp_path, "echo 'qemu-system-x86_64: error: failed to set MSR "
                                    "0x10a to 0x69' >&2; kill -ABRT $$")
    got = decide(runner_series, qemu)
    assert got.name == "tcg"
    assert got.reason == "probe of -accel kvm failed: QEMU killed by SIGABRT: " \
                         "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69"
    cached = [json.loads(p.read_text()) for p in probe_host.glob("*.json")]
    assert [c["accel"] for c in cached] == ["tcg"]
    assert cached[0]["key"]["qemu"] == str(qemu)
    # Decided once: the next VM reads the cache and does not run QEMU.
    again = decide(runner_series, qemu)
    assert (again.name, again.reason.endswith(", cached)")) == ("tcg", True), again
    assert log.read_text().count("-accel kvm") == 1


def test_probe_picks_tcg_where_the_kernel_has_no_kvm_inside(tmp_path, probe_host, runner_series):
    # QEMU and the kernel come up, but kvm_amd does not load.
    qemu, _ = fake_qemu(tmp_path, swap({"kvm": "tcg",
                                        "console=ttyS0*": "$a module_blacklist=kvm_amd"}))
    got = decide(runner_series, qemu)
    assert got.name == "tcg"
    assert got.reason.startswith("probe of -accel kvm failed: linux-image-"), got.reason
    assert got.reason.endswith(" booted, but open /dev/kvm: No such file or directory"), \
        got.reason


def test_probe_picks_kvm_where_the_kernel_boots_with_kvm_inside(tmp_path, probe_host,
                                                                 runner_series):
    # Stands in for a host with nested KVM: the "kvm" boot is TCG in disguise.
    qemu, _ = fake_qemu(tmp_path, swap({"kvm": "tcg"}))
    got = decide(runner_series, qemu)
    assert got.name == "kvm", got.reason
    assert got.reason.startswith("probe: linux-image-")
    assert got.reason.endswith(" booted under -accel kvm and its /dev/kvm works (nested KVM)")


def test_decision_is_keyed_by_host_qemu_and_kernel(probe_host):
    key = accel.cache_key("linux-image-x 1", kvmvm.QEMU)
    assert key["host_release"] == kvmhost.release()
    assert key["host_backend"] == kvmhost.backend()[0]
    assert key["qemu"] == str(pathlib.Path(REAL_QEMU).resolve())
    assert key["qemu_version"].startswith("QEMU emulator version")
    assert key["kernel"] == "linux-image-x 1"
