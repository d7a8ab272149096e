#!/bin/bash
# Installs what podunit's build, demo and tests need on Debian 12 (as root):
# the Debian packages below (apt-get, only when one is missing) and the npm
# packages from package-lock.json (bun among them) into node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
# `--bench` (what make bench passes) asks for nothing more now: crun, the runtime the
# benchmark measures Podman with, is in the list below for every setup.

packages=(
  systemd dbus util-linux mount   # the lab's PID 1 and bus; unshare, nsenter
  crun runc catatonit             # the OCI runtimes of runtime sandboxes and rootfs members (crun the default, runc tested beside it); the sandbox's pause process
  busybox-static                  # test and demo root file systems
  iproute2 procps hostname        # loopback and hostname inside pods; pgrep in tests
  make ca-certificates            # build
  qemu-system-x86 qemu-utils      # the VM test (test/vm): the VM and its throw-away overlay
  mmdebstrap e2fsprogs cpio       # the VM's image: root file system, ext4 image, initrd
  skopeo                          # image tests: a real tool that writes OCI and docker archives, reads the image store and pushes to test registries
  docker-registry openssl apache2-utils   # pull tests: a real registry on 127.0.0.1, its test CA, htpasswd for Basic auth
  lintian man-db groff-base       # make deb's check; the man page tests render with man
  containernetworking-plugins     # bridged pods: the CNI bridge and host-local plugins
  nftables iptables conntrack     # published ports' rules (nft), the FORWARD accepts (iptables' own chain), stale UDP conntrack entries
  systemd-container libnss-mymachines   # bridged pods registered with systemd-machined: machinectl lists them, the host resolves their names
  gcc libc6-dev                   # the hardening test builds a static probe that makes the refused system calls itself
  podman netavark                 # kube tests: a real consumer runs generated manifests with 'podman kube play' (netavark: the network stack it is tested with)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm installs bun; a machine may have Node.js from elsewhere than Debian, so look for the command.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; }
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
