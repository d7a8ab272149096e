#!/bin/bash
# Makes a minimal busybox-static root file system at DIR (for rootfs members
# in tests, the demo and benchmarks): busybox and its applet links, /etc files.
set -euo pipefail
dir=$1
mkdir -p "$dir"/{bin,etc,proc,sys,dev,tmp,run,var,root}
cp /bin/busybox "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/false" >>"$dir/etc/passwd"
echo "root:x:0:" >"$dir/etc/group"
echo "nogroup:x:65534:" >>"$dir/etc/group"
chmod 1777 "$dir/tmp"
