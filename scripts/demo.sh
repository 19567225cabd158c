#!/bin/sh
# The main job on the bundled hello guest: run, record, show, replay, diff.
# `make demo` runs this where /dev/kvm works (natively, or inside a
# QEMU-booted kernel: tests/kernels/kvmvm.py).
set -eu
cd "$(dirname "$0")/.."
kt=build/kvmtrace
out=build/demo
mkdir -p "$out"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step $kt run build/guests/hello.bin -v
step $kt record build/guests/hello.bin -o $out/hello.zst --force
step $kt show $out/hello.zst
step $kt show --stats $out/hello.zst
step $kt replay $out/hello.zst
step $kt record build/guests/hello.bin -o $out/hello-again.zst --force
step $kt diff $out/hello.zst $out/hello-again.zst
printf '\ndemo: recorded, showed, replayed and diffed the hello guest (traces in %s)\n' "$out"
