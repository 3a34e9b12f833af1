# pid1.sh: zonevisord as PID 1 of a container, run in a PID namespace of
# its own (unshare --pid --fork --mount-proc).  Protects: it starts its
# zones there; it reaps every orphan of the namespace, not only its own
# (a process that lost its parent inside the container is reparented to
# PID 1 and must not stay a zombie); a VM that dies is recovered; SIGTERM
# is a graceful shutdown (PID 1 gets no default action for it: zonevisord
# must handle it), every VM stopped and exit 0.  Needs unshare(1) and the
# right to make namespaces: skipped without.
. "$ZV_SRCDIR/tests/integration/lib.sh"

command -v unshare >/dev/null && command -v nsenter >/dev/null ||
    { echo "SKIP: no unshare or nsenter" >&2; exit 77; }
unshare --pid --fork --mount-proc true 2>/dev/null ||
    { echo "SKIP: cannot make a PID namespace here" >&2; exit 77; }

write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta)"
unshare --pid --fork --mount-proc --kill-child=SIGKILL \
    "$ZVD" -d -f "$T/zonevisor.conf" > "$T/daemon.log" 2>&1 &
UNSHARE=$!
wait_for "control socket" 10 test -S "$SOCK" || fail "zonevisord did not start as PID 1"
# zonevisord's pid as seen from here: unshare's one child.  unshare itself
# waits out SIGTERM, so lib.sh's cleanup is given zonevisord.
pid1=$(tr -d ' \n' < "/proc/$UNSHARE/task/$UNSHARE/children")
DAEMON_PID=$pid1
[ -n "$pid1" ] && grep -q "^NSpid:.*[[:space:]]1$" "/proc/$pid1/status" ||
    fail "zonevisord is not PID 1 of its namespace: $(grep NSpid "/proc/$pid1/status" 2>&1)"
wait_for "alpha running" 10 state_is alpha running || fail "alpha is $(zfield alpha state)"
wait_for "beta running" 10 state_is beta running || fail "beta is $(zfield beta state)"
[ "$(zfield alpha pid)" -gt 1 ] || fail "alpha's VM pid $(zfield alpha pid)"

# An orphan of the container: a process started inside the namespace (as
# docker exec would), whose parent exits.  It is reparented to PID 1.
nsenter --target "$pid1" --pid --mount -- sh -c \
    "sleep 300 < /dev/null > /dev/null 2>&1 & echo \$! > '$T/orphan.inner'"
orphan=
find_orphan() {
	local p
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" = "sleep 300 " ] || continue
		grep -q "^NSpid:.*[[:space:]]$(cat "$T/orphan.inner")$" "/proc/$p/status" 2>/dev/null || continue
		orphan=$p
		return 0
	done
	return 1
}
wait_for "the orphan" 5 find_orphan || fail "no orphan found"
ppid_of() { sed -n 's/^PPid:[[:space:]]*//p' "/proc/$1/status"; }
wait_for "the orphan reparented to PID 1" 5 test "$(ppid_of "$orphan")" = "$pid1" ||
    fail "orphan $orphan has parent $(ppid_of "$orphan"), not $pid1"
kill -KILL "$orphan"
gone() { [ ! -e "/proc/$1" ]; }
wait_for "the orphan reaped" 5 gone "$orphan" ||
    fail "zonevisord as PID 1 left orphan $orphan a zombie ($(grep State "/proc/$orphan/status"))"
grep -q "reaped stray process" "$T/daemon.log" || fail "the reap is not logged"

# A VM that dies is recovered as anywhere else.
vm=$(vm_pids alpha)
kill -KILL "$vm"
new_vm() { [ "$(vm_count alpha)" -eq 1 ] && [ "$(vm_pids alpha)" != "$vm" ] && state_is alpha running; }
wait_for "alpha recovered" 10 new_vm || fail "alpha was not recovered: $(zfield alpha state)"

# SIGTERM to PID 1: every zone stopped, exit 0, nothing left.
vms="$(vm_pids alpha) $(vm_pids beta)"
kill -TERM "$pid1"
wait "$UNSHARE"	# unshare exits with zonevisord's status
rc=$?
DAEMON_PID=
[ $rc -eq 0 ] || fail "zonevisord as PID 1 exited $rc on SIGTERM"
for p in $vms; do
	not_alive "$p" || fail "VM $p outlived zonevisord"
done
grep -q "zone alpha: operation alpha-stop-.*(shutdown)" "$T/daemon.log" ||
    fail "alpha was not stopped gracefully"
exit 0
