"""show --stats on traces with requests it has no name for (a newer
kernel's ioctls, another VMM's devices).  Regression: the stats table kept a
pointer to a stack buffer for an unknown request's name, which the
ASan+UBSan build reported as stack-use-after-scope; run it under
KVMTRACE_BIN=build/san/kvmtrace to check that."""
import pathlib
import subprocess

import targets

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
REWRITE = REPO / "build" / "kt-rewrite"
GOLDEN = REPO / "traces" / "6.1" / "hello.zst"
UNKNOWN = [0xAEFF, 0xC008AEFE]


def rewrite_request(tmp_path, event, number, src=GOLDEN, name="out"):
    out = tmp_path / f"{name}.zst"
    subprocess.run([str(REWRITE), str(src), str(out), "--request", str(event), str(number)],
                   check=True, capture_output=True, timeout=60)
    return out


def test_show_stats_counts_unknown_requests_by_number(tmp_path):
    # Events 1 and 2 of the golden are KVM_CREATE_VM and KVM_SET_TSS_ADDR.
    once = rewrite_request(tmp_path, 1, UNKNOWN[0], name="once")
    twice = rewrite_request(tmp_path, 2, UNKNOWN[1], src=once, name="twice")
    r = subprocess.run([str(KVMTRACE), "show", "--stats", str(twice)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split()[1] for line in r.stdout.splitlines()
            if line.strip() and not line.startswith(("ioctl", "exit reason"))}
    assert rows[hex(UNKNOWN[0])] == "1"
    assert rows[hex(UNKNOWN[1])] == "1"
    assert "KVM_CREATE_VM" not in rows and "KVM_SET_TSS_ADDR" not in rows
    assert r.stderr == ""
