#!/bin/sh
# Install the Debian packages kvmtrace needs, only those missing.  Idempotent
# and quiet when everything is present.
set -eu

PKGS="gcc g++ make libzstd-dev zstd libgtest-dev python3-pytest python3-pytest-xdist
clang libclang-rt-14-dev bpftool libbpf-dev libelf-dev zlib1g-dev libcap2-bin libseccomp-dev
qemu-system-x86 busybox-static cpio kmod"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
