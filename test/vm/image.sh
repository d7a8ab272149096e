#!/bin/bash
# Builds the test VM's image, or finds it already built, and prints its directory.
#
#   image.sh [--print-key]
#
# The image is made from Debian packages only: the kernel of `linux-image-amd64`
# (unpacked with dpkg -x, never installed on this machine), a busybox initrd that
# loads the modules the root file system needs, and a bookworm root file system
# (mmdebstrap, from this machine's own apt sources file) in an ext4 image. It is
# cached in $PODUNIT_VM_CACHE (default /var/cache/podunit-vm) under a key hashed
# from the build inputs: these scripts, guest/, the package list, the apt sources
# file and the kernel package's version. Runs use it read-only, as the backing
# file of a throw-away overlay. Older keys are removed once a new one is built,
# unless a run holds them (a shared flock on KEY/in-use).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${PODUNIT_VM_CACHE:-/var/cache/podunit-vm}

# What the guest needs: systemd as PID 1 with its bus and udev, what podunit runs
# (crun and runc, catatonit, util-linux, iproute2, hostname), busybox-static for pod root
# file systems, kmod for the kernel's modules; for bridged pods the CNI bridge
# plugin, nft (podunit's table), iptables (the FORWARD accepts) and conntrack.
packages=(systemd systemd-sysv dbus udev kmod crun runc catatonit busybox-static iproute2 mount util-linux hostname procps)
packages+=(containernetworking-plugins nftables iptables conntrack)

die() { echo "image.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "Failed to build the VM image: must run as root (mmdebstrap, file ownership in the image)."
for cmd in mmdebstrap mkfs.ext4 cpio apt-get dpkg sha256sum flock; do
  command -v "$cmd" >/dev/null || die "Failed to build the VM image: '$cmd' is missing (run 'make setup')."
done

sources=${PODUNIT_VM_SOURCES:-}
if [ -z "$sources" ]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [ -s "$f" ]; then sources=$f; break; fi
  done
fi
[ -n "$sources" ] && [ -s "$sources" ] || die "Failed to find this machine's apt sources file (set PODUNIT_VM_SOURCES)."

# The kernel: the package linux-image-amd64 depends on, at the version apt would install.
meta=$(apt-cache show --no-all-versions linux-image-amd64) || die "Failed to find 'linux-image-amd64' in apt's lists (apt-get update?)."
kpkg=$(sed -n 's/^Depends: \(linux-image-[^ ,]*\) (= \([^)]*\)).*/\1/p' <<<"$meta" | head -n1)
kpkgver=$(sed -n 's/^Depends: linux-image-[^ ,]* (= \([^)]*\)).*/\1/p' <<<"$meta" | head -n1)
[ -n "$kpkg" ] && [ -n "$kpkgver" ] || die "Failed to tell which kernel package 'linux-image-amd64' depends on."
kver=${kpkg#linux-image-}

key=$(
  {
    echo "kernel $kpkg $kpkgver"
    echo "packages ${packages[*]}"
    sha256sum "$sources"
    cd "$here" && find image.sh initrd-init guest -type f -print0 | sort -z | xargs -0 sha256sum
    find guest -type f -perm -u+x | sort
  } | sha256sum | cut -c1-16
)
if [ "${1:-}" = --print-key ]; then echo "$key"; exit 0; fi

out=$cache/$key
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ -f "$out/done" ]; then echo "$out"; exit 0; fi

started=$(date +%s)
rm -rf "$cache"/build-* # left by a build that was killed (builds hold the lock)
stage=$(mktemp -d "$cache/build-$key.XXXXXX")
chmod 755 "$stage" # apt-get download runs as _apt
trap 'rm -rf "$stage"' EXIT
root=$stage/root
log() { echo "image.sh: $*" >&2; }

log "building $key: bookworm with ${packages[*]}, kernel $kpkg $kpkgver (mirror: $sources)"
include=$(IFS=,; echo "${packages[*]}")
mmdebstrap --quiet --variant=minbase --include="$include" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  bookworm "$root" "$sources" >&2

log "unpacking $kpkg"
mkdir -p "$stage/deb" "$stage/kernel"
chown _apt "$stage/deb" 2>/dev/null || true
(cd "$stage/deb" && apt-get download -q "$kpkg=$kpkgver" >&2)
dpkg -x "$stage/deb/${kpkg}_"*.deb "$stage/kernel"
cp "$stage/kernel/boot/vmlinuz-$kver" "$stage/vmlinuz"
# Modules for a virtual machine: everything but sound and hardware drivers; of
# the drivers, virtio, block, char and the virtual network devices.
kmods=$stage/kernel/lib/modules/$kver
gmods=$root/lib/modules/$kver
mkdir -p "$gmods/kernel/drivers/net"
cp "$kmods"/modules.* "$gmods/"
for d in "$kmods"/kernel/*; do
  case ${d##*/} in sound | drivers) ;; *) cp -a "$d" "$gmods/kernel/" ;; esac
done
cp -a "$kmods"/kernel/drivers/{virtio,block,char} "$gmods/kernel/drivers/"
cp -a "$kmods"/kernel/drivers/net/*.ko "$gmods/kernel/drivers/net/"
chroot "$root" depmod "$kver"

log "customizing the root file system"
# Files of guest/ go to the same paths, owned by root; executables 755, the rest 644.
(cd "$here/guest" && find . -type f) | while read -r f; do
  mode=644
  [ -x "$here/guest/$f" ] && mode=755
  install -D -o root -g root -m "$mode" "$here/guest/$f" "$root/${f#./}"
done
echo "$key$key" | cut -c1-32 >"$root/etc/machine-id"
systemctl --root="$root" mask --quiet getty@.service serial-getty@.service console-getty.service \
  systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer
systemctl --root="$root" enable --quiet podunit-vm-run.service

log "making the initrd"
initrd=$stage/initrd
mkdir -p "$initrd"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$root/bin/busybox" "$initrd/bin/busybox"
cp "$here/initrd-init" "$initrd/init"
chmod 755 "$initrd/init"
# Modules in load order, dependencies first.
chroot "$root" modprobe -a -S "$kver" --show-depends virtio_pci virtio_blk ext4 |
  awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' >"$stage/initrd-modules"
while read -r m; do
  cp "$root$m" "$initrd/lib/modules/"
  echo "${m##*/}" >>"$initrd/lib/modules/order"
done <"$stage/initrd-modules"
(cd "$initrd" && find . | cpio --quiet -o -H newc -R 0:0 | gzip -9) >"$stage/initrd.img"

log "making the ext4 image"
mkfs.ext4 -q -L podunit-vm -d "$root" "$stage/rootfs.img" 3G >&2
chmod 444 "$stage/rootfs.img"

mkdir -p "$stage/image"
mv "$stage/vmlinuz" "$stage/initrd.img" "$stage/rootfs.img" "$stage/image/"
{
  echo "key=$key"
  echo "kernel=$kpkg $kpkgver"
  echo "packages=${packages[*]}"
  echo "sources=$sources"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds=$(($(date +%s) - started))"
} >"$stage/image/manifest"
touch "$stage/image/done"
rm -rf "$out"
mv "$stage/image" "$out"

# Older images, unless a run is using one.
for old in "$cache"/*/; do
  old=${old%/}
  [ "$old" = "$out" ] && continue
  [ -f "$old/manifest" ] || continue
  if flock -xn "$old/in-use" true; then rm -rf "$old"; log "removed the older image ${old##*/}"; fi
done
log "built $key in $(($(date +%s) - started)) s"
echo "$out"
