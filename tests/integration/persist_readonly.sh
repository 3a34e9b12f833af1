# persist_readonly.sh: a read-only state directory.  Linux refuses to make
# a file system read-only while files on it are open for writing (EBUSY),
# and a running zonevisord keeps its logs open, so zonevisord is started on
# a state directory that went read-only while it was down (a tmpfs
# remounted ro), and the directory is made writable again while it runs.
# Protects: zonevisord starts there at all (its lock and the workers' locks
# are taken through read-only descriptors, not mistaken for a live owner);
# zones start and run, a killed VM is recovered and a killed worker
# replaced, never two VMs of a zone; diagnose shows the persistence
# degraded with EROFS (status --json too), named once in the daemon log
# per zone, also across the worker's replacement; once the directory is
# writable, the runtime records of the running VMs are written, the gap is
# noted in the lifecycle log, persistence is ok (logged once) and the log
# reads cleanly.  Needs mount(8) as root: skipped where a tmpfs cannot be
# mounted.
. "$ZV_SRCDIR/tests/integration/lib.sh"

mount_state_tmpfs
# At exit, before the daemon is stopped and the tmpfs unmounted:
# writable again, so that the daemon stops cleanly.
before_unmount() { mount -o remount,rw "$STATE" 2>/dev/null; }

write_config
zone alpha "$(fake alpha)" "[recovery]" "restart_delay = 100ms"
zone beta "$(fake beta)"
persist() { diag "$1" "d['persistence']['$2']"; }
persist_is() { [ "$(persist "$1" state)" = "$2" ]; }

# A first run leaves the state directory as any run does; then it goes
# read-only while no zonevisord runs.
start_daemon
for z in alpha beta; do
	wait_for "$z running" 10 state_is $z running || fail "$z did not start"
done
kill -TERM "$DAEMON_PID"
wait_for "daemon exit" 15 not_alive "$DAEMON_PID" || fail "zonevisord did not stop"
mv "$T/daemon.log" "$T/daemon.log.1"
mount -o remount,ro "$STATE" || fail "cannot remount the state directory read-only"
touch "$STATE/probe" 2> /dev/null && fail "the state directory is still writable"

start_daemon
for z in alpha beta; do
	wait_for "$z running" 10 state_is $z running ||
	    fail "$z is $(zfield $z state) on a read-only state directory: $(zfield $z last_error)"
done
watch_vms alpha beta
beta_vm=$(zfield beta pid)
for z in alpha beta; do
	[ "$(persist $z state)" = degraded ] || fail "$z's persistence is $(persist $z state)"
	case "$(persist $z cause)" in
	*"Read-only file system"*) ;;
	*) fail "$z's persistence cause: $(persist $z cause)" ;;
	esac
	[ "$(persist $z records_lost)" -gt 0 ] || fail "$z lost no records: $(persist $z records_lost)"
done
[ "$(json "z['beta']['persistence']['state']")" = degraded ] || fail "status --json: $(zfield beta persistence)"
zc diagnose alpha > "$T/diag.out" || fail "diagnose failed"
grep -q "^persistence: *degraded since .*Read-only file system" "$T/diag.out" ||
    fail "diagnose: $(cat "$T/diag.out")"

# A dead VM is recovered; a dead worker is replaced, its VM stopped first.
vm=$(zfield alpha pid)
kill -KILL "$vm"
new_vm() { p=$(zfield alpha pid); [ "$p" != null ] && [ "$p" != "$vm" ] && state_is alpha running; }
wait_for "alpha recovered" 10 new_vm || fail "alpha is $(zfield alpha state) after its VM was killed"
vm=$(zfield alpha pid)
worker=$(zfield alpha worker_pid)
lost=$(persist alpha records_lost)
kill -KILL "$worker"
wait_for "the lost worker's VM stopped" 10 not_alive "$vm" || fail "VM $vm outlived its worker"
new_worker() { w=$(zfield alpha worker_pid); [ "$w" != null ] && [ "$w" != "$worker" ] && new_vm; }
wait_for "alpha recovered by a new worker" 15 new_worker ||
    fail "alpha is $(zfield alpha state) after its worker was killed: $(zfield alpha last_error)"
[ "$(vm_count alpha)" -eq 1 ] || fail "alpha has $(vm_count alpha) VMs"
[ "$(persist alpha state)" = degraded ] || fail "the new worker says alpha's persistence is $(persist alpha state)"
[ "$(persist alpha records_lost)" -gt "$lost" ] || fail "records lost: $lost before, $(persist alpha records_lost) after"
[ "$(zfield beta pid)" = "$beta_vm" ] || fail "beta was disturbed"
for z in alpha beta; do
	n=$(grep -c "zone $z: persistence degraded" "$T/daemon.log")
	[ "$n" -eq 1 ] || fail "the daemon log names $z's degraded persistence $n times"
done

# Writable again: everything owed is written, persistence is ok.
mount -o remount,rw "$STATE" || fail "cannot remount the state directory read-write"
for z in alpha beta; do
	wait_for "$z's persistence ok" 10 persist_is $z ok ||
	    fail "$z's persistence is $(persist $z state) once writable: $(persist $z cause)"
	n=$(grep -c "zone $z: persistence restored" "$T/daemon.log")
	[ "$n" -eq 1 ] || fail "the daemon log says $n times that $z's persistence was restored"
	[ -f "$STATE/zones/$z/runtime" ] || fail "$z's runtime record was not written once writable"
	zc --json events $z > "$T/events.out" 2> "$T/events.err" || fail "events $z failed"
	[ -s "$T/events.err" ] && fail "events $z reports problems: $(cat "$T/events.err")"
	python3 - "$T/events.out" "$(zfield $z pid)" <<'PY' || fail "$z's lifecycle log once writable"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
pid = int(sys.argv[2])
kinds = [r["kind"] for r in rs]
assert "records-lost" in kinds, kinds
gap = rs[kinds.index("records-lost")]
assert "Read-only file system" in gap["error_message"], gap
written = [r for r in rs if r["kind"] == "runtime-record-written" and r["current_vm"]["pid"] == pid]
assert written and "error_code" not in written[-1], written
PY
done
expect_rc 0 zc restart alpha
[ "$(persist alpha state)" = ok ] || fail "alpha's persistence is $(persist alpha state) after a restart"
check_vms
exit 0
