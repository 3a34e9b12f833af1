#!/bin/bash
# process_setup.sh: a VM runs with the zone's user and group (no
# supplementary groups), umask and [limits], as /proc shows them; a setup
# that cannot be done (a working directory that does not exist) is
# vm-spawn-failed with its reason, never a silent exit of the child.  The
# VM's environment is zonevisord's PATH, LANG, LC_ALL and TZ, the markers,
# and the zone's env.NAME keys, which replace an inherited variable.
. "$ZV_SRCDIR/tests/integration/lib.sh"

getent passwd nobody > /dev/null || fail "no user nobody on this system"
[ -x /usr/bin/python3 ] || fail "no /usr/bin/python3 (scripts/setup installs it)"
group=$(getent group nogroup > /dev/null && echo nogroup || echo nobody)
gid=$(getent group "$group" | cut -d: -f3)
uid=$(id -u nobody)
# A VM any user can run, whose command line names the test directory.
vm="/usr/bin/python3 -c 'import time;time.sleep(1000)' $T/vm"

write_config
zone alpha "$vm" "user = nobody" "group = $group" "umask = 027" \
    "[limits]" "nofile = 1234" "nproc = 77" "core = 0"
zone beta "$vm" "cwd = $T/does-not-exist" "${manual[@]}"
zone gamma "$vm"
zone delta "$vm" "env.PATH = /zv/bin:/usr/bin" "env.GREETING = hello world"
export LANG=C.UTF-8 ZV_NOT_PASSED=1
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha is $(zfield alpha state)"
wait_for "gamma running" 10 state_is gamma running || fail "gamma is $(zfield gamma state)"
pid=$(zfield alpha pid)
st=/proc/$pid/status
awk '$1 == "Uid:" { exit !($2 == u && $3 == u && $4 == u && $5 == u) }' u="$uid" "$st" ||
    fail "alpha's VM runs as $(grep Uid: "$st")"
awk '$1 == "Gid:" { exit !($2 == g && $3 == g && $4 == g && $5 == g) }' g="$gid" "$st" ||
    fail "alpha's VM runs with $(grep Gid: "$st")"
[ "$(awk '$1 == "Groups:" { print NF - 1 }' "$st")" -eq 0 ] ||
    fail "alpha's VM kept supplementary groups: $(grep Groups: "$st")"
grep -q "^Umask:[[:space:]]*0027$" "$st" || fail "alpha's VM has $(grep Umask: "$st")"
lim=/proc/$pid/limits
grep -q "^Max open files *1234 *1234 " "$lim" || fail "nofile: $(grep 'open files' "$lim")"
grep -q "^Max processes *77 *77 " "$lim" || fail "nproc: $(grep 'Max processes' "$lim")"
grep -q "^Max core file size *0 *0 " "$lim" || fail "core: $(grep 'core file' "$lim")"

# Without settings, the VM is zonevisord's user with its umask and limits.
gpid=$(zfield gamma pid)
grep -q "^Uid:[[:space:]]*0[[:space:]]" "/proc/$gpid/status" || fail "gamma's VM is not root"
[ "$(grep 'open files' "/proc/$gpid/limits")" != "$(grep 'open files' "$lim")" ] ||
    fail "gamma's VM got alpha's limits"

# The environment: one PATH, the zone's; LANG passed; nothing else of
# zonevisord's.
wait_for "delta running" 10 state_is delta running || fail "delta is $(zfield delta state)"
env=$(tr '\0' '\n' < "/proc/$(zfield delta pid)/environ")
[ "$(echo "$env" | grep -c '^PATH=')" -eq 1 ] || fail "delta's VM has PATH $(echo "$env" | grep '^PATH=')"
echo "$env" | grep -qx 'PATH=/zv/bin:/usr/bin' || fail "delta's env.PATH was not used"
echo "$env" | grep -qx 'GREETING=hello world' || fail "delta's env.GREETING is missing"
echo "$env" | grep -qx 'LANG=C.UTF-8' || fail "LANG was not passed"
echo "$env" | grep -qx 'ZONEVISOR_ZONE=delta' || fail "no ZONEVISOR_ZONE marker"
! echo "$env" | grep -q '^ZV_NOT_PASSED=' || fail "zonevisord's whole environment leaked into the VM"

# The working directory cannot be entered: vm-spawn-failed, with the reason.
wait_for "beta failed" 10 state_is beta failed || fail "beta is $(zfield beta state)"
err=$(json "z['beta']['last_error']['code']")
[ "$err" = vm-spawn-failed ] || fail "beta failed with $err"
json "z['beta']['last_error']['message']" | grep -q "chdir $T/does-not-exist: No such file" ||
    fail "beta's reason: $(json "z['beta']['last_error']['message']")"

check_vms
exit 0
