"""Golden traces: where they live and how they are recorded.  Shared by the
matrix tests and `make update-goldens`."""
import json
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
TRACES = REPO / "traces"
GUESTS = REPO / "guests"
KVMTRACE = REPO / "build" / "kvmtrace"
# Same kernel series, another day: what may change without being news.
SAME_SERIES_IGNORES = TRACES / "ignore-same-series.txt"
# Between kernel series: the differences known and judged (traces/README.md).
ALLOW_LIST = TRACES / "allow-list.txt"


def guests():
    return sorted(p.stem for p in GUESTS.glob("*.json"))


def guest_args(guest):
    return json.loads((GUESTS / f"{guest}.json").read_text())["args"]


def golden(series, guest):
    return TRACES / series / f"{guest}.zst"


def record_argv(guest, out):
    """kvmtrace arguments that record guest into out."""
    return ["record", str(REPO / "build" / "guests" / f"{guest}.bin"), *guest_args(guest),
            "-o", str(out), "--force"]


# Guests whose vCPUs run concurrently: the interleaving of their events is
# the scheduler's, so their traces are compared per vCPU, not event by event.
CONCURRENT = {g for g in guests() if "--vcpus" in guest_args(g)}
