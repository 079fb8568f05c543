#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Installs, from Debian's archive, whatever tidegate needs to build and test
# that is not installed yet. Safe to run again: does nothing when all is
# there. Needs root (or sudo) only when something is missing.
set -eu

PKGS="build-essential pkg-config meson ninja-build python3
libdpdk-dev dpdk librdkafka-dev libconfig-dev libcunit1-dev
libjansson-dev libpcap-dev iproute2 dpdk-dev kcat"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
