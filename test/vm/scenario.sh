#!/bin/bash
# The VM test's scenario. Runs inside the guest once per boot, started by
# podunit-vm-run.service as `scenario BOOT OUTDIR`, and records what it sees as
# key=value lines in OUTDIR/boot-BOOT.facts; test/vm/vm.test.ts asserts on them.
# It judges nothing itself: every step runs and records, whatever went before.
#
# Boot 1: cgroup v2; pod 'vmlimit' (podunit start; a member with a memory limit
# is OOM-killed past it; stop); pods 'vmrootfs' (a busybox rootfs member under runc),
# 'vmrunc' (the runc sandbox) and 'vmcrun' (the crun sandbox and a rootfs member under
# crun): start, stop; pod 'vmboot' (podunit enable --now), whose member
# writes into its persistent volume; then asks for a reboot. Boot 2: 'vmboot' is up again, its
# member reads what it wrote, and 'vmgen', whose spec was only put in
# /etc/podunit/pods, is up through the generator; both started during boot. The
# generator's message about the broken spec 'vmbad' is in this boot's journal.
# 'vmnet' (a bridged pod publishing 8080) is enabled in boot 1 and answers on
# the port in boot 2.
#
# In /srv/vm/in: podunit.deb (make deb), busybox/ (a root file system),
# pods/*.toml. Boot 1 installs the package with dpkg -i; boot 2 ends with
# apt-get remove podunit, which must take the package's files and leave the specs.
set -uo pipefail
boot=$1 out=$2
in=/srv/vm/in
facts=$out/boot-$boot.facts
: >"$facts"

# fact KEY VALUE: records one fact (newlines become spaces).
fact() {
  local v=${2//$'\n'/ }
  printf '%s=%s\n' "$1" "$v" >>"$facts"
  echo "fact: $1=$v"
}
# try CMD...: shows a command and its output; its exit code is left in $rc.
try() {
  echo "+ $*"
  "$@"
  rc=$?
  echo "(exit $rc)"
}
# wait_until SECONDS CMD...: re-checks CMD every 0.2 s; fails once SECONDS have passed.
wait_until() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.2
  done
}
prop() { systemctl show -P "$2" "$1"; }
# settled UNIT: nothing more happens to the unit by itself (no job queued, no transition).
settled() {
  [ -z "$(systemctl list-jobs --plain --no-legend "$1")" ] || return 1
  case $(prop "$1" ActiveState) in activating | deactivating | reloading | refreshing) return 1 ;; esac
}
# cgroup UNIT: the unit's cgroup directory (empty when it has none).
cgroup() {
  local cg
  cg=$(prop "$1" ControlGroup)
  [ -n "$cg" ] && echo "/sys/fs/cgroup$cg"
}
# event FILE KEY: one counter of a memory.events file.
event() { awk -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null; }
# leftovers POD: what of the pod is still there (units, cgroups, run directory, mounts, crun's and runc's state).
leftovers() {
  systemctl list-units --all --plain --no-legend "podunit-$1.slice" "podunit-$1.target" "podunit-$1-*" | awk '{ print "unit " $1 }'
  find /sys/fs/cgroup -type d -name "podunit-$1.slice" | sed 's/^/cgroup /'
  if [ -e "/run/podunit/$1" ]; then echo "dir /run/podunit/$1"; fi
  findmnt -rn -o TARGET | grep -F "/run/podunit/$1/" | sed 's/^/mount /'
  runc list -q 2>/dev/null | grep -F "podunit-$1." | sed 's/^/runc /'
  crun list -q 2>/dev/null | grep -F "podunit-$1." | sed 's/^/crun /'
}
podlog() { journalctl -b --no-pager -o short-monotonic -u "podunit-$1*"; }

fact cgroup_fs "$(stat -fc %T /sys/fs/cgroup)"
fact controllers "$(cat /sys/fs/cgroup/cgroup.controllers)"
fact systemd "$(systemctl --version | head -n1)"
fact kernel "$(uname -r)"
fact links "$(ip -o link show | awk -F': ' '{ print $2 }' | paste -sd' ')"
fact failed_units "$(systemctl list-units --failed --plain --no-legend | awk '{ print $1 }' | paste -sd' ')"

# startstop POD MEMBER: podunit start, the member's state and memory.max, podunit
# stop, what is left (facts prefixed POD_).
startstop() {
  local pod=$1 unit=podunit-$1-$2.service
  try podunit start "$pod"
  fact "${pod}_start_rc" "$rc"
  fact "${pod}_member_state" "$(prop "$unit" ActiveState)"
  fact "${pod}_member_memory_max" "$(cat "$(cgroup "$unit")/memory.max" 2>&1)"
  try runc list
  try crun list
  try podunit stop "$pod"
  fact "${pod}_stop_rc" "$rc"
  podlog "$pod"
  fact "${pod}_leftovers" "$(leftovers "$pod")"
}

boot1() {
  echo "== installing podunit (the .deb), the busybox root file system and the pod specs"
  try dpkg -i "$in/podunit.deb"
  fact deb_install_rc "$rc"
  fact deb_status "$(dpkg-query -W -f='${Status}' podunit 2>&1)"
  fact podunit_path "$(command -v podunit)"
  fact generator_link "$(readlink /usr/lib/systemd/system-generators/podunit-generator)"
  fact slice_fragment "$(prop podunit.slice FragmentPath)"
  mkdir -p /var/lib/podunit-test
  cp -a "$in/busybox" /var/lib/podunit-test/busybox
  install -m 644 "$in"/pods/*.toml /etc/podunit/pods/
  systemctl daemon-reload
  fact podunit_version "$(podunit version 2>&1)"

  echo "== vmlimit: a member's memory limit under cgroup v2"
  try podunit start vmlimit
  fact limit_start_rc "$rc"
  local hog slice
  hog=$(cgroup podunit-vmlimit-hog.service)
  slice=$(cgroup podunit-vmlimit.slice)
  fact limit_hog_cgroup "$hog"
  fact limit_hog_memory_max "$(cat "$hog/memory.max")"
  fact limit_slice_memory_max "$(cat "$slice/memory.max")"
  fact limit_oom_kill_before "$(event "$slice/memory.events" oom_kill)"
  touch /run/podunit-vm-go # the hog starts allocating
  wait_until 120 bash -c '[ "$(systemctl show -P ActiveState podunit-vmlimit-hog.service)" != active ]'
  fact limit_hog_state "$(prop podunit-vmlimit-hog.service ActiveState)"
  fact limit_hog_result "$(prop podunit-vmlimit-hog.service Result)"
  fact limit_oom_kill_after "$(event "$slice/memory.events" oom_kill)"
  fact limit_steady_state "$(prop podunit-vmlimit-steady.service ActiveState)"
  podlog vmlimit
  try podunit stop vmlimit
  fact limit_stop_rc "$rc"
  fact limit_leftovers "$(leftovers vmlimit)"

  echo "== vmrootfs: a member with a busybox root file system (runc), the native sandbox"
  startstop vmrootfs box
  echo "== vmrunc: the runc sandbox"
  startstop vmrunc app
  echo "== vmcrun: the crun sandbox and a rootfs member under crun"
  startstop vmcrun box

  echo "== vmboot: a boot-time pod"
  try podunit enable --now vmboot 2>"$out/enable.err"
  cat "$out/enable.err"
  fact enable_rc "$rc"
  fact enable_error "$(head -c 500 "$out/enable.err")"
  fact boot1_target_state "$(systemctl is-active podunit-vmboot.target)"
  fact boot1_idle_state "$(prop podunit-vmboot-idle.service ActiveState)"
  # Written through the member's own mount namespace into its persistent volume; read again after the reboot.
  try nsenter -t "$(prop podunit-vmboot-idle.service MainPID)" -m -- /bin/sh -c 'echo "written in boot 1" > /srv/data/f'
  fact volume_write_rc "$rc"
  podlog vmboot
  vmnet_enable
  echo reboot >"$out/boot-$boot.next"
}

# booted POD MEMBER: facts about a boot-time pod (prefixed POD_).
booted() {
  local pod=$1 member=$2 target=podunit-$1.target
  wait_until 120 settled "$target"
  wait_until 120 settled "podunit-$pod-$member.service"
  fact "${pod}_target_state" "$(systemctl is-active "$target")"
  fact "${pod}_target_load" "$(prop "$target" LoadState)"
  fact "${pod}_target_fragment" "$(prop "$target" FragmentPath)"
  fact "${pod}_target_unit_file_state" "$(prop "$target" UnitFileState)"
  fact "${pod}_target_wanted_by" "$(prop "$target" WantedBy)"
  fact "${pod}_target_active_since" "$(prop "$target" ActiveEnterTimestampMonotonic)"
  fact "${pod}_sandbox_state" "$(prop "podunit-$pod-sandbox.service" ActiveState)"
  fact "${pod}_member_state" "$(prop "podunit-$pod-$member.service" ActiveState)"
  fact "${pod}_member_memory_max" "$(cat "$(cgroup "podunit-$pod-$member.service")/memory.max" 2>&1)"
  try podunit status "$pod"
  fact "${pod}_status_rc" "$rc"
  podlog "$pod"
}

# volume_facts: the persistent and tmpfs volumes of 'vmboot' after the reboot, seen by its member.
volume_facts() {
  local pid
  pid=$(prop podunit-vmboot-idle.service MainPID)
  fact vmboot_volume_data "$(nsenter -t "$pid" -m -- cat /srv/data/f 2>&1)"
  fact vmboot_volume_mode "$(stat -c %a /var/lib/podunit/volumes/vmboot/data 2>&1)"
  fact vmboot_volume_mem "$(findmnt -n -o FSTYPE /run/podunit/vmboot/volumes/mem 2>&1)"
}

# vmnet: a bridged pod publishing 8080 (busybox httpd on the pod's port 80),
# enabled before the reboot; after it, the port answers at 127.0.0.1 and at the
# bridge's address. The VM has no network device: the bridge is all there is.
vmnet_enable() {
  echo "== vmnet: a bridged boot-time pod with a published port"
  mkdir -p /var/lib/podunit-test/www
  echo hello-vmnet >/var/lib/podunit-test/www/index.html
  try podunit enable --now vmnet
  fact vmnet_enable_rc "$rc"
  podlog vmnet
}
# http IP PORT: the body of GET / (bash's /dev/tcp: no client in the image to depend on).
http() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "GET / HTTP/1.0\r\n\r\n" >&3 && cat <&3' _ "$1" "$2" 2>/dev/null | tail -n1
}
answers() { [ -n "$(http "$1" "$2")" ]; }
vmnet_booted() {
  echo "== vmnet (bridged, enabled) after the reboot"
  booted vmnet web
  local bridge
  bridge=$(ip -4 -o addr show dev podunit0 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4 }')
  fact vmnet_bridge_address "$bridge"
  fact vmnet_address "$(podunit status vmnet --json 2>&1 | grep -o '"addresses":\["[^"]*' | cut -d'"' -f4)"
  wait_until 60 answers 127.0.0.1 8080 # the server binds a moment after its unit is active
  fact vmnet_http_loopback "$(http 127.0.0.1 8080)"
  fact vmnet_http_bridge "$(http "${bridge:-0.0.0.0}" 8080)"
  try nft list table inet podunit
}

boot2() {
  fact runner_started "$(prop podunit-vm-run.service InactiveExitTimestampMonotonic)"
  echo "== vmboot (enabled) after the reboot"
  booted vmboot idle
  volume_facts
  echo "== vmgen (only its spec, for the generator) after the reboot"
  booted vmgen idle
  vmnet_booted
  echo "== the generator's messages at boot"
  journalctl -b --no-pager -o cat -t podunit-generator | tee "$out/generator.log"
  fact generator_messages "$(cat "$out/generator.log")"
  fact vmbad_target_load "$(prop podunit-vmbad.target LoadState)"

  echo "== apt-get remove podunit"
  local files
  files=$(dpkg -L podunit | while read -r f; do if [ -L "$f" ] || [ -f "$f" ]; then echo "$f"; fi; done)
  fact package_files "$(echo "$files" | grep -c .)"
  try apt-get remove -y podunit
  fact remove_rc "$rc"
  fact remove_status "$(dpkg-query -W -f='${Status}' podunit 2>&1)"
  fact package_files_left "$(echo "$files" | while read -r f; do if [ -L "$f" ] || [ -e "$f" ]; then echo "$f"; fi; done)"
  fact specs_left "$(ls /etc/podunit/pods)"
  echo "== end"
}

"boot$boot"
