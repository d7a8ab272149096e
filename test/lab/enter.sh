#!/bin/bash
# Runs a command inside a running lab, as a user would on that machine:
#
#   enter.sh LABDIR COMMAND [ARG...]
#
# Joins the lab's root cgroup in every hierarchy first (systemd inside accepts
# only PIDs it can see), then all of the lab's namespaces.
set -euo pipefail
labdir=$1
shift
while read -r dir; do
  echo $$ >"$dir/cgroup.procs"
done <"$labdir/cgroups"
exec nsenter -t "$(cat "$labdir/pid")" -m -u -i -n -p -C -- "$@"
