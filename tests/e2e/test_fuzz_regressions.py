"""Every fuzzer finding, once fixed, stays fixed: fuzz/regressions/TARGET/
holds the (minimized) input libFuzzer found, and build/fuzz-regress runs each
through the fuzz target TARGET, the same code libFuzzer ran (fuzz/fuzz.h).
Under make e2e-san (KVMTRACE_BIN=build/san/kvmtrace) it is the ASan+UBSan
build of the runner, build/san/fuzz-regress, that does; make fuzz-short runs
them through the clang libFuzzer builds as well (mk/fuzz.mk).

  diff/env-seen-null-plus-zero   replayer/environment.c computed NULL + 0
                                 (undefined; clang's UBSan) on the first
                                 environment difference two headers had"""
import pathlib
import subprocess

import targets

REPO = pathlib.Path(__file__).resolve().parents[2]
KVMTRACE = targets.kvmtrace_bin()
RUNNER = KVMTRACE.parent / "fuzz-regress"
REGRESSIONS = REPO / "fuzz" / "regressions"
TARGETS = {"reader", "decode", "header", "diff"}


def test_every_reproducer_names_a_fuzz_target():
    dirs = {p.name for p in REGRESSIONS.iterdir() if p.is_dir()}
    assert dirs and dirs <= TARGETS, dirs


def test_every_reproducer_runs_clean():
    files = sorted(p for p in REGRESSIONS.glob("*/*") if p.is_file())
    assert files
    r = subprocess.run([str(RUNNER), *map(str, files)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "runtime error" not in r.stderr and "Sanitizer" not in r.stderr, r.stderr
    assert r.stdout.count(" ok (") == len(files), r.stdout


def test_the_runner_refuses_a_file_it_cannot_place(tmp_path):
    stray = tmp_path / "nowhere" / "input"
    stray.parent.mkdir()
    stray.write_bytes(b"x")
    r = subprocess.run([str(RUNNER), str(stray)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "not under regressions/TARGET/" in r.stderr
