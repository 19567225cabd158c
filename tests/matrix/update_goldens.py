#!/usr/bin/python3
"""make update-goldens [KERNEL=SERIES|native]: re-record every guest on each
configured kernel series (or on the one KERNEL names; `native` is this host's
own KVM, whose goldens go to traces/BACKEND-SERIES/, e.g. traces/pvm-6.18/),
show how each new trace differs from the golden it would replace, then
replace those that changed or are new (after a yes on a terminal; YES=1
skips the question).  Unchanged goldens are left as they are."""
import argparse
import os
import pathlib
import shutil
import sys
import tempfile

# Run as a script, not under pytest's pythonpath: the runner is next door.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "kernels"))

import goldens  # noqa: E402
import kvmvm  # noqa: E402
import targets  # noqa: E402


def record_all(target, out_dir):
    print(f"recording on {target.describe()}", flush=True)
    for guest in goldens.guests():
        out = out_dir / target.goldens / f"{guest}.zst"
        out.parent.mkdir(parents=True, exist_ok=True)
        r = target.run(goldens.record_argv(guest, out), timeout=120)
        if not out.exists():
            sys.exit(f"update-goldens: {guest} on {target.column}: no trace "
                     f"(status {r.returncode}): {r.stderr.strip()}")


def changes(goldens_dir, new_dir):
    """{guest: 'new' | 'changed'} for the new traces that differ from the
    goldens (modulo traces/ignore-same-series.txt), printing each."""
    out = {}
    for guest in goldens.guests():
        old, new = goldens.golden(goldens_dir, guest), new_dir / f"{guest}.zst"
        name = old.relative_to(goldens.REPO)
        if not old.exists():
            out[guest] = "new"
            print(f"  {name}: new")
            continue
        fields = sorted(set(goldens.same_series_fields(guest, old, new)))
        print(f"  {name}: {'changed' if fields else 'unchanged'}")
        for f in fields[:15]:
            print(f"      {f}")
        if fields:
            out[guest] = "changed"
    return out


def pick_columns(kernel):
    series = kvmvm.series_names()
    if kernel is None:
        return series
    try:
        return targets.columns(kernel)
    except ValueError as e:
        sys.exit(f"update-goldens: KERNEL={kernel}: {e}")


def main(argv=None):
    p = argparse.ArgumentParser(prog="update_goldens.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--kernel", help="one series from kernels.conf, or native "
                                    "(default: every series)")
    columns = pick_columns(p.parse_args(argv).kernel)
    pool = targets.TargetPool()
    with tempfile.TemporaryDirectory(dir=goldens.REPO / "build") as tmp:
        tmp = pathlib.Path(tmp)
        try:
            recorded = [pool.get(c) for c in columns]
            for target in recorded:
                record_all(target, tmp)
        except kvmvm.VMError as e:
            sys.exit(f"update-goldens: {e}")
        finally:
            pool.close()
        todo = {t.goldens: changes(t.goldens, tmp / t.goldens) for t in recorded}
        if not any(todo.values()):
            print("goldens unchanged")
            return
        if os.environ.get("YES") != "1" and sys.stdin.isatty():
            if input("replace the changed goldens with these? [y/N] ").strip().lower() != "y":
                print("goldens left as they were")
                return
        for goldens_dir, guests in todo.items():
            for guest in guests:
                dest = goldens.golden(goldens_dir, guest)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(tmp / goldens_dir / f"{guest}.zst", dest)
            print(f"{len(guests)} goldens written to traces/{goldens_dir}/")


if __name__ == "__main__":
    main()
