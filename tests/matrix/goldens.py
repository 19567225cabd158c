"""Golden traces: where they live and how they are recorded.  Shared by the
matrix tests and `make update-goldens`.

traces/SERIES/ holds the goldens of a QEMU series (6.1, 6.12);
traces/BACKEND-SERIES/ those of a native host (pvm-6.18: kvmhost.golden_dir),
recorded with `make update-goldens KERNEL=native`."""
import json
import pathlib
import subprocess

import targets

REPO = pathlib.Path(__file__).resolve().parents[2]
TRACES = REPO / "traces"
GUESTS = REPO / "guests"
KVMTRACE = targets.kvmtrace_bin()  # $KVMTRACE_BIN, default build/kvmtrace
# Same kernel series, another day: what may change without being news.
SAME_SERIES_IGNORES = TRACES / "ignore-same-series.txt"
# Between kernel series: the differences known and judged (traces/README.md).
ALLOW_LIST = TRACES / "allow-list.txt"


def guests():
    return sorted(p.stem for p in GUESTS.glob("*.json"))


def guest_args(guest):
    return json.loads((GUESTS / f"{guest}.json").read_text())["args"]


def golden(goldens_dir, guest):
    """goldens_dir: a series (6.1) or a native BACKEND-SERIES (pvm-6.18)."""
    return TRACES / goldens_dir / f"{guest}.zst"


def have_goldens(goldens_dir):
    """Whether goldens were recorded for goldens_dir (each guest's golden
    must then be there)."""
    return (TRACES / goldens_dir).is_dir()


def record_argv(guest, out, *extra):
    """kvmtrace arguments that record guest into out."""
    return ["record", str(REPO / "build" / "guests" / f"{guest}.bin"), *guest_args(guest),
            "-o", str(out), "--force", *extra]


def kvmtrace_json(*args):
    """JSON lines of a kvmtrace command run here (show, diff: no KVM needed)."""
    r = subprocess.run([str(KVMTRACE), *map(str, args)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode in (0, 1), f"kvmtrace {' '.join(map(str, args))}: {r.stderr}"
    return [json.loads(line) for line in r.stdout.splitlines()]


# Guests whose vCPUs run concurrently: the interleaving of their events is
# the scheduler's, so their traces are compared per vCPU, not event by event.
CONCURRENT = {g for g in guests() if "--vcpus" in guest_args(g)}


def diff_json(a, b, *extra):
    return kvmtrace_json("diff", "--json", *extra, a, b)


# What varies from run to run, as in kvmtrace's default ignore list.
RUN_TO_RUN = {"t_start_ns", "dur_ns", "new_fd", "userspace_addr", "apic_id", "x2apic_id"}


def strip(obj):
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k not in RUN_TO_RUN}
    return obj


def per_vcpu(trace):
    """A concurrent guest's events, per vCPU, without what varies run to run
    (or with the interleaving: event numbers)."""
    lanes = {}
    for e in kvmtrace_json("show", "--json", trace):
        e.pop("index", None)
        if e.get("event") == "end":
            e.pop("events", None)
        lanes.setdefault(e.get("vcpu"), []).append(json.dumps(strip(e), sort_keys=True))
    return lanes


def same_series_fields(guest, old, new):
    """Fields where two recordings of guest on one kernel series differ."""
    items = diff_json(old, new, "--ignore-file", SAME_SERIES_IGNORES)
    if guest not in CONCURRENT:
        return [d.get("path") or d["kind"] for d in items]
    # Interleaving across vCPUs is the scheduler's: compare each vCPU's own
    # sequence, and the header.
    lanes_old, lanes_new = per_vcpu(old), per_vcpu(new)
    return [f"vcpu{v} events" for v in lanes_old.keys() | lanes_new.keys()
            if lanes_old.get(v) != lanes_new.get(v)] + \
        [d["path"] for d in items if d["kind"] == "header"]
