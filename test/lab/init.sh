#!/bin/bash
# PID 1 of a test lab's namespaces until it execs systemd (started by launch.sh).
#
# Builds a root from a tmpfs overlay of / (nothing the lab writes reaches the
# host), fresh proc/sys/cgroup/dev/run/tmp, the lab's system bus directory bound
# from LABDIR/dbus so the host can reach the bus socket, a minimal boot target,
# then pivots into it and execs systemd with a reduced capability bounding set.
set -euo pipefail

labdir=$1 name=$2
shift 2

mount --make-rprivate /
mount -t tmpfs -o mode=755,size=2g "podunit-lab-$name" "$labdir/mnt"
mkdir "$labdir/mnt/upper" "$labdir/mnt/work" "$labdir/mnt/root"
root=$labdir/mnt/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$labdir/mnt/upper,workdir=$labdir/mnt/work" "$root"

mount -t proc proc "$root/proc"
# net.* sysctls belong to the lab's own network namespace (launch.sh gives it one), so
# they stay writable (bound before the read-only remount, which covers only the top):
# bridged pods need forwarding and per-interface settings there.
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount --rbind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
mount -t sysfs -o ro sysfs "$root/sys"

# The same cgroup hierarchies as the host, mounted again inside the cgroup
# namespace so systemd sees its own cgroup as the root.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
else
  mount -t tmpfs -o mode=755 cgroup "$root/sys/fs/cgroup"
  grep -E ' - cgroup2? ' /proc/self/mountinfo | while read -r _ _ _ _ mnt _ rest; do
    fstype=${rest#*- }
    fstype=${fstype%% *}
    supers=${rest##* }
    target="$root/sys/fs/cgroup/${mnt#/sys/fs/cgroup/}"
    mkdir -p "$target"
    if [ "$fstype" = cgroup2 ]; then
      mount -t cgroup2 cgroup2 "$target"
    else
      opts=$(tr ',' '\n' <<<"$supers" | grep -vE '^(rw|ro|relatime)$' | paste -sd, -)
      mount -t cgroup -o "$opts" cgroup "$target"
    fi
  done
  mount -o remount,ro "$root/sys/fs/cgroup"
fi

mount -t tmpfs -o mode=755,size=16m dev "$root/dev"
for d in null zero full random urandom tty; do
  touch "$root/dev/$d"
  mount --bind "/dev/$d" "$root/dev/$d"
done
mkdir -p "$root/dev/pts" "$root/dev/shm" "$root/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
mount -t mqueue mqueue "$root/dev/mqueue"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
touch "$root/dev/console"
mount --bind "$labdir/console.log" "$root/dev/console"

mount -t tmpfs -o mode=755 run "$root/run"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"
mkdir -p "$root/run/dbus" "$root/srv/lab"
# A second proc with nothing mounted over it: the kernel lets a process in a user
# namespace of its own mount a proc only while some proc mount of its mount
# namespace is fully visible, and the one at /proc has /proc/sys bound over it
# read-only (above). Pods with userns = "auto" need it; a real host's /proc is so.
mkdir -p "$root/run/.lab-proc"
mount -t proc proc "$root/run/.lab-proc"
mount --bind "$labdir/dbus" "$root/run/dbus"
mount --bind "$labdir/share" "$root/srv/lab"

# Host directories the tests need, at the path they ask for.
for spec in "$@"; do
  IFS=: read -r src dst mode <<<"$spec"
  mkdir -p "$root$dst"
  mount --bind "$src" "$root$dst"
  [ "$mode" = ro ] && mount -o remount,bind,ro "$root$dst"
done

# A fresh identity and a boot target that pulls only what the tests use.
head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$root/etc/machine-id"
echo "podunit-lab-$name" >"$root/etc/hostname"
hostname "podunit-lab-$name"
units=$root/etc/systemd/system
mkdir -p "$units"
cat >"$units/podunit-lab.target" <<'EOF'
[Unit]
Description=podunit test lab
Wants=sysinit.target dbus.socket dbus.service systemd-journald.socket systemd-journald.service
After=sysinit.target dbus.socket dbus.service systemd-journald.service
AllowIsolate=yes
EOF
for u in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
  systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service \
  systemd-sysctl.service systemd-modules-load.service systemd-timesyncd.service \
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount systemd-binfmt.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
  sys-fs-fuse-connections.mount dev-hugepages.mount systemd-random-seed.service \
  systemd-pstore.service systemd-firstboot.service systemd-repart.service \
  systemd-remount-fs.service systemd-machine-id-commit.service systemd-journald-audit.socket \
  apt-daily.timer apt-daily-upgrade.timer fstrim.timer e2scrub_all.timer man-db.timer \
  logrotate.timer systemd-ask-password-console.path systemd-ask-password-wall.path \
  ldconfig.service console-getty.service getty.target; do
  ln -sf /dev/null "$units/$u"
done

cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot

exec setpriv --bounding-set -sys_module,-sys_time,-sys_rawio,-syslog,-mac_admin,-mac_override,-wake_alarm,-block_suspend \
  env -i container=podunit-lab "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  /lib/systemd/systemd --unit=podunit-lab.target
