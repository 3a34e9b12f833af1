# persist_full.sh: the state directory fills up (a 4 MiB tmpfs, filled with
# a file until ENOSPC).  Protects: records that cannot be written never
# stop, fail or restart a zone (restarts succeed, a killed VM is recovered,
# never two VMs of a zone, a zone that writes nothing is untouched);
# diagnose and status --json show the zone's persistence degraded since
# when, with the first error (ENOSPC) and the lifecycle records lost, and
# the daemon log names the failure once; a record written only in part is
# not left behind; once space returns, what failed is written again (the
# runtime record of the running VM, a records-lost note where records are
# missing), persistence is ok again (logged once), and the lifecycle log
# reads cleanly from end to end.  Needs mount(8) as root: skipped where a
# tmpfs cannot be mounted.
. "$ZV_SRCDIR/tests/integration/lib.sh"

mount_state_tmpfs
# At exit, before the daemon is stopped and the tmpfs unmounted:
# the filler goes.
before_unmount() { rm -f "$STATE/filler"; }

write_config
zone alpha "$(fake alpha)" "[recovery]" "restart_delay = 100ms"
zone beta "$(fake beta)"
start_daemon
for z in alpha beta; do
	wait_for "$z running" 10 state_is $z running || fail "$z did not start"
done
beta_vm=$(zfield beta pid)
watch_vms alpha beta
persist() { diag "$1" "d['persistence']['$2']"; }
persist_is() { [ "$(persist "$1" state)" = "$2" ]; }
[ "$(persist alpha state)" = ok ] || fail "alpha's persistence is $(persist alpha state) at start"

# Fill the file system; the write ends with ENOSPC.
head -c 8M /dev/zero > "$STATE/filler" 2> /dev/null
[ "$(df --output=avail "$STATE" | tail -n 1)" -eq 0 ] ||
    fail "the tmpfs is not full: $(df "$STATE" | tail -n 1)"

# Operations go on; the records fill what is left of the log's last page,
# then fail.  Each restart must still succeed.
i=0
while [ "$(persist alpha records_lost)" -eq 0 ]; do
	i=$((i + 1))
	[ $i -le 10 ] || fail "no lifecycle record was lost in 10 restarts on a full state directory"
	expect_rc 0 zc restart alpha
done
state_is alpha running || fail "alpha is $(zfield alpha state) after restarts on a full disk"

# A VM that dies is recovered all the same.
vm=$(zfield alpha pid)
kill -KILL "$vm"
new_vm() { p=$(zfield alpha pid); [ "$p" != null ] && [ "$p" != "$vm" ] && state_is alpha running; }
wait_for "alpha recovered" 10 new_vm || fail "alpha is $(zfield alpha state) after its VM was killed on a full disk"
[ "$(vm_count alpha)" -eq 1 ] || fail "alpha has $(vm_count alpha) VMs"

# Diagnose, status --json and the daemon log say so.
[ "$(persist alpha state)" = degraded ] || fail "alpha's persistence is $(persist alpha state)"
cause=$(persist alpha cause)
case "$cause" in
*"No space left on device"*) ;;
*) fail "alpha's persistence cause: $cause" ;;
esac
[ "$(persist alpha since)" -gt 1600000000000 ] || fail "degraded since $(persist alpha since)"
[ "$(json "z['alpha']['persistence']['state']")" = degraded ] || fail "status --json: $(zfield alpha persistence)"
[ "$(json "z['alpha']['persistence']['records_lost']")" -gt 0 ] || fail "status --json: $(zfield alpha persistence)"
zc diagnose alpha > "$T/diag.out" || fail "diagnose failed"
grep -q "^persistence: *degraded since .*: .*No space left on device.*lifecycle records lost" "$T/diag.out" ||
    fail "diagnose: $(cat "$T/diag.out")"
n=$(grep -c "zone alpha: persistence degraded" "$T/daemon.log")
[ "$n" -eq 1 ] || fail "the daemon log names alpha's degraded persistence $n times"
n=$(grep "zv:alpha.* warning: " "$T/daemon.log" | grep -c "No space left on device")
[ "$n" -eq 1 ] || fail "alpha's worker warned of ENOSPC $n times: $(grep "No space" "$T/daemon.log")"
# beta wrote nothing meanwhile: its persistence was never in doubt.
[ "$(zfield beta pid)" = "$beta_vm" ] || fail "beta was disturbed"
[ "$(persist beta state)" = ok ] || fail "beta's persistence is $(persist beta state)"

# Space returns: retried writes succeed, persistence is ok again.
rm -f "$STATE/filler"
wait_for "alpha's persistence ok" 10 persist_is alpha ok ||
    fail "alpha's persistence is $(persist alpha state) once space returned: $(persist alpha cause)"
n=$(grep -c "zone alpha: persistence restored" "$T/daemon.log")
[ "$n" -eq 1 ] || fail "the daemon log says $n times that alpha's persistence was restored"
[ -f "$STATE/zones/alpha/runtime" ] || fail "the runtime record of alpha's VM was not written once space returned"
zc diagnose alpha > "$T/diag.out"
grep -q "^persistence: *ok" "$T/diag.out" || fail "diagnose: $(cat "$T/diag.out")"
expect_rc 0 zc restart alpha
[ "$(persist alpha state)" = ok ] || fail "alpha's persistence is $(persist alpha state) after a restart"

# The log reads cleanly end to end: no corrupt record, the gap noted, the
# runtime record of the VM that runs now written, the last restart whole.
zc --json events alpha > "$T/events.out" 2> "$T/events.err" || fail "events failed: $(cat "$T/events.err")"
[ -s "$T/events.err" ] && fail "events reports problems: $(cat "$T/events.err")"
python3 - "$T/events.out" "$(zfield alpha pid)" "$(zfield alpha operation_id)" <<'PY' || fail "the lifecycle log after the disk was full"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
pid, op = int(sys.argv[2]), sys.argv[3]
gaps = [r for r in rs if r["kind"] == "records-lost"]
assert gaps and "No space left on device" in gaps[0]["error_message"], gaps
assert gaps[0]["error_code"] == "record-write-failed", gaps[0]
written = [r for r in rs if r["kind"] == "runtime-record-written" and r["current_vm"]["pid"] == pid]
assert written and "error_code" not in written[-1], written
kinds = [r["kind"] for r in rs if r["operation_id"] == op]
assert kinds[0] == "restart-requested" and kinds[-1] == "operation-finished", kinds
PY
check_vms
exit 0
