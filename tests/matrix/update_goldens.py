#!/usr/bin/python3
"""make update-goldens: re-record every guest on every configured kernel
series, show how each new trace differs from the golden it would replace,
then replace them (after a yes on a terminal; YES=1 skips the question)."""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "kernels"))

import goldens  # noqa: E402
import kvmvm  # noqa: E402


def record_all(series, out_dir):
    vm = kvmvm.KernelVM(series, share=goldens.REPO).start()
    try:
        print(f"recording on {vm.kernel_version}", flush=True)
        for guest in goldens.guests():
            out = out_dir / series / f"{guest}.zst"
            out.parent.mkdir(parents=True, exist_ok=True)
            r = vm.run([str(goldens.KVMTRACE), *goldens.record_argv(guest, out)],
                       timeout=120, text=True)
            if not out.exists():
                sys.exit(f"update-goldens: {guest} on {series}: no trace "
                         f"(status {r.returncode}): {r.stderr.strip()}")
    finally:
        vm.close()


def show_change(old, new):
    if not old.exists():
        print(f"  new golden: {old.relative_to(goldens.REPO)}")
        return
    r = subprocess.run([str(goldens.KVMTRACE), "diff", "--stat", "--ignore-file",
                        str(goldens.SAME_SERIES_IGNORES), str(old), str(new)],
                       capture_output=True, text=True)
    what = "unchanged" if r.returncode == 0 else "changed"
    print(f"  {old.relative_to(goldens.REPO)}: {what}")
    for line in r.stdout.splitlines()[:15]:
        print(f"      {line}")


def main():
    series = kvmvm.series_names()
    with tempfile.TemporaryDirectory(dir=goldens.REPO / "build") as tmp:
        tmp = pathlib.Path(tmp)
        for s in series:
            record_all(s, tmp)
        for s in series:
            for guest in goldens.guests():
                show_change(goldens.golden(s, guest), tmp / s / f"{guest}.zst")
        if os.environ.get("YES") != "1" and sys.stdin.isatty():
            if input("replace the goldens with these? [y/N] ").strip().lower() != "y":
                print("goldens left as they were")
                return
        for s in series:
            dest = goldens.TRACES / s
            dest.mkdir(parents=True, exist_ok=True)
            for guest in goldens.guests():
                shutil.copyfile(tmp / s / f"{guest}.zst", dest / f"{guest}.zst")
        print(f"goldens replaced under {goldens.TRACES.relative_to(goldens.REPO)}/")


if __name__ == "__main__":
    main()
