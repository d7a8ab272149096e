#!/bin/bash
# Starts one test lab: a throw-away systemd as PID 1 of its own namespaces.
#
#   launch.sh LABDIR NAME [HOSTDIR:LABPATH[:ro] ...]
#
# Host side: creates a cgroup named after LABDIR (podunit-lab-...) below this process's own
# cgroup in every mounted hierarchy, moves itself there, records the cgroup
# directories in LABDIR/cgroups, then execs unshare into fresh pid, mount, uts,
# ipc, cgroup and network namespaces, where init.sh prepares a root and execs
# systemd. The caller kills this process tree by PID to end the lab.
set -euo pipefail

labdir=$1 name=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$labdir/mnt" "$labdir/dbus" "$labdir/share"
: >"$labdir/console.log"
: >"$labdir/cgroups"

# Mount point of each hierarchy, keyed by the controller field of /proc/self/cgroup.
declare -A mountpoint
while read -r _ _ _ _ mnt _ rest; do
  fstype=${rest#*- }
  fstype=${fstype%% *}
  supers=${rest##* }
  case $fstype in
    cgroup2) mountpoint[unified]=$mnt ;;
    cgroup)
      ctl=$(tr ',' '\n' <<<"$supers" | grep -vE '^(rw|ro|relatime|noexec|nosuid|nodev|clone_children|xattr|nsdelegate|memory_recursiveprot)$' | paste -sd, -)
      mountpoint[$ctl]=$mnt
      ;;
  esac
done < <(grep -E ' - cgroup2? ' /proc/self/mountinfo)

while IFS=: read -r _ ctl path; do
  mnt=${mountpoint[${ctl:-unified}]:-}
  [ -n "$mnt" ] || continue
  dir="$mnt${path%/}/$(basename "$labdir")"
  echo "$dir" >>"$labdir/cgroups" # listed before it exists, so teardown never misses it
  mkdir -p "$dir"
  if [ -f "$dir/cpuset.cpus" ] && [ -z "$(cat "$dir/cpuset.cpus")" ]; then
    cat "$(dirname "$dir")/cpuset.cpus" >"$dir/cpuset.cpus"
    cat "$(dirname "$dir")/cpuset.mems" >"$dir/cpuset.mems"
  fi
done </proc/self/cgroup

# On a pure cgroup v2 host, hand the controllers the parent grants on to the lab.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  dir=$(head -n1 "$labdir/cgroups")
  for c in $(cat "$dir/cgroup.controllers"); do
    echo "+$c" >"$dir/cgroup.subtree_control" 2>/dev/null || true
  done
fi

while read -r dir; do
  echo $$ >"$dir/cgroup.procs"
done <"$labdir/cgroups"

exec unshare --pid --fork --kill-child --mount --uts --ipc --cgroup --net --propagation private \
  "$here/init.sh" "$labdir" "$name" "$@"
