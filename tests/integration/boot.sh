# boot.sh: what a starting zonevisord does with what an earlier one left.
# Protects: a VM found only by its marker (its runtime record gone) is
# stopped before the zone's new VM starts; one that ignores SIGTERM is
# SIGKILLed after stop_timeout; a runtime record naming a live but
# unrelated process (pid reused) is deleted and that process untouched; a
# port held by a stranger makes the zone owner-unsafe{port-owned}, which
# only zonectl reset --force clears; never two VMs of a zone.
. "$ZV_SRCDIR/tests/integration/lib.sh"

port=$(free_port)
write_config
zone alpha "$(fake alpha)"
zone gamma "$(fake gamma --ignore-term)" "stop_timeout = 1s"
zone delta "$(fake delta)" "autostart = no"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
wait_for "gamma running" 10 state_is gamma running || fail "gamma did not start"
watch_vms alpha gamma delta
a=$(zfield alpha pid)
g=$(zfield gamma pid)

# The daemon and every worker die at once; the VMs live on, ownerless.
crash "$DAEMON_PID" "$(zfield alpha worker_pid)" "$(zfield gamma worker_pid)" \
    "$(zfield delta worker_pid)"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
alive "$a" && alive "$g" || fail "the VMs died with their workers"
# alpha's runtime record is lost too: only its marker tells it is ours.
rm "$T/state/zones/alpha/runtime"
# delta's record names a live process that is not ours (same pid, other start).
sleep 1000 &
stranger=$!
write_runtime delta "$stranger" $(( $(start_time "$stranger") + 1 ))
# And a stranger listens on delta's ingress_port.
echo "ingress_port = $port" >> "$T/zones.d/delta.conf"
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(1000)' "$port" &
listener=$!
wait_for "listener" 5 sh -c "grep -qi ':$(printf %04X "$port") .* 0A ' /proc/net/tcp" || fail "no listener"

start_daemon
wait_for "alpha running" 15 state_is alpha running || fail "alpha is $(zfield alpha state)"
not_alive "$a" || fail "alpha's leftover VM $a (marker only) was not stopped"
wait_for "gamma running" 10 state_is gamma running || fail "gamma is $(zfield gamma state)"
not_alive "$g" || fail "gamma's leftover VM $g (ignoring SIGTERM) was not stopped"
grep -q "sent SIGKILL to leftover VM pid $g" "$T/daemon.log" || fail "gamma's leftover was not SIGKILLed"
[ "$(vm_count alpha)" -eq 1 ] && [ "$(vm_count gamma)" -eq 1 ] || fail "VM counts $(vm_count alpha)/$(vm_count gamma)"
zc --json events alpha | grep '"kind":"owner-unsafe-detected"' | tail -n 1 | grep -q '"orphaned-vm"' ||
    fail "the marker-found leftover is not recorded as orphaned-vm"

# delta: its stale record went without a signal; the port is a stranger's.
alive "$stranger" || fail "the unrelated process named by a stale record was signalled"
[ -e "$T/state/zones/delta/runtime" ] && fail "the stale record of delta was kept"
state_is delta owner-unsafe || fail "delta is $(zfield delta state)"
[ "$(json "z['delta']['evidence']['kind']")" = port-owned ] || fail "delta evidence $(zfield delta evidence)"
json "z['delta']['evidence']['detail']" | grep -q "pid $listener" || fail "the port owner is not named: $(json "z['delta']['evidence']['detail']")"
expect_rc 1 zc start delta
expect_rc 1 zc reset delta
grep -q "reset --force" "$T/last.err" || fail "reset without --force said: $(cat "$T/last.err")"
expect_rc 0 zc reset delta --force
state_is delta stopped || fail "delta is $(zfield delta state) after reset --force"
expect_rc 0 zc start delta
[ "$(vm_count delta)" -eq 1 ] || fail "delta has $(vm_count delta) VMs"
kill "$stranger" "$listener"
wait "$stranger" "$listener" 2>/dev/null
check_vms
exit 0
