# records.sh: the lifecycle log, read through zonectl events --json.
# Protects: the record sequences of start, stop, restart, cold start and a
# superseded operation match DESIGN §3, every record of one operation
# carries its id (both phases of a restart included), the runtime record
# exists exactly while a VM runs, and the files are private (0600).
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
zone alpha "$(fake alpha)"
zone beta "$(fake beta --ignore-term)" "autostart = no" "stop_timeout = 2s"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"

# kinds OPID: the kinds of the records of one operation, in order.
kinds() {
	zc --json events "$2" | python3 -c '
import json, sys
op = sys.argv[1]
print(" ".join(r["kind"] for r in map(json.loads, sys.stdin) if r["operation_id"] == op))' "$1"
}
# expect_kinds ZONE OPID KIND...: exactly this sequence.
expect_kinds() {
	local zone=$1 op=$2 got
	shift 2
	got=$(kinds "$op" "$zone")
	[ "$got" = "$*" ] || fail "records of $op: got [$got], expected [$*]"
}
# The id of the last operation of a zone.
last_op() { zfield "$1" operation_id; }

# start (autostart): one id from request to finish.
op=$(last_op alpha)
case "$op" in alpha-start-*) ;; *) fail "autostart id $op" ;; esac
expect_kinds alpha "$op" start-requested vm-spawned runtime-record-written operation-finished
rt=$T/state/zones/alpha/runtime
[ -f "$rt" ] || fail "no runtime record while alpha runs"
[ "$(stat -c %a "$rt")" = 600 ] || fail "runtime record mode $(stat -c %a "$rt")"
[ "$(stat -c %a "$T/state/zones/alpha/lifecycle.log")" = 600 ] || fail "lifecycle.log mode"
zc --json events alpha | python3 -c '
import json, sys
for r in map(json.loads, sys.stdin):
    for k in ("zone", "kind", "observed_at", "operation_id", "trigger", "supervisor_pid", "generation"):
        assert k in r, (k, r)
    assert r["zone"] == "alpha"
    if r["kind"] == "vm-spawned":
        assert r["current_vm"]["pid"] > 1 and r["current_vm"]["start_time"] > 0, r
' || fail "a record lacks a field of DESIGN §3"

# restart: both phases under the restart's id.
vm=$(zfield alpha pid)
expect_rc 0 zc restart alpha
op=$(last_op alpha)
case "$op" in alpha-restart-*) ;; *) fail "restart id $op" ;; esac
expect_kinds alpha "$op" restart-requested stop-requested vm-close-started vm-exited \
    vm-close-finished runtime-record-deleted start-requested vm-spawned \
    runtime-record-written operation-finished
zc --json events alpha | python3 -c '
import json, sys
op, old = sys.argv[1], int(sys.argv[2])
rs = [r for r in map(json.loads, sys.stdin) if r["operation_id"] == op]
assert all(r["trigger"] == "operator-restart" for r in rs), rs
closed = [r for r in rs if r["kind"] == "vm-close-started"][0]
assert closed["previous_vm"]["pid"] == old, closed
' "$op" "$vm" || fail "restart records do not name the old VM or the trigger"

# stop.
expect_rc 0 zc stop alpha
op=$(last_op alpha)
expect_kinds alpha "$op" stop-requested vm-close-started vm-exited vm-close-finished \
    runtime-record-deleted operation-finished
[ -e "$rt" ] && fail "runtime record kept after a clean stop"

# restart of a stopped zone is a cold start.
expect_rc 0 zc restart alpha
op=$(last_op alpha)
case "$op" in alpha-cold-start-*) ;; *) fail "cold start id $op" ;; esac
expect_kinds alpha "$op" cold-start-requested start-requested vm-spawned \
    runtime-record-written operation-finished

# A restart superseded by a stop in its stop phase, and a start queued
# behind it superseded before it began.
expect_rc 0 zc start beta
expect_rc 0 zc restart --no-wait beta
restart_op=$(sed -n 's/.*(\(beta-restart-[^)]*\)).*/\1/p' "$T/last.out")
[ -n "$restart_op" ] || fail "no restart id in: $(cat "$T/last.out")"
wait_for "beta stopping" 5 state_is beta stopping || fail "beta is $(zfield beta state)"
zc start --no-wait beta > "$T/queued.out"
queued_op=$(sed -n 's/.*(\(beta-start-[^)]*\)).*/\1/p' "$T/queued.out")
expect_rc 0 zc stop beta
stop_op=$(last_op beta)
expect_kinds beta "$restart_op" restart-requested stop-requested vm-close-started operation-failed
expect_kinds beta "$queued_op" operation-failed
expect_kinds beta "$stop_op" stop-requested vm-exited vm-close-finished runtime-record-deleted \
    operation-finished
zc --json events beta | python3 -c '
import json, sys
ops = sys.argv[1:]
rs = [r for r in map(json.loads, sys.stdin) if r["kind"] == "operation-failed" and r["operation_id"] in ops]
assert len(rs) == 2 and all(r["error_code"] == "superseded" for r in rs), rs
' "$restart_op" "$queued_op" || fail "superseded operations not recorded as operation-failed{superseded}"
state_is beta stopped || fail "beta is $(zfield beta state)"

# events -f: the last records, then each new one as it is written.
zc --json events -f -n 1 alpha > "$T/follow.out" 2>&1 &
follower=$!
wait_for "follow's first record" 5 test -s "$T/follow.out" || fail "events -f printed nothing"
expect_rc 0 zc stop alpha
stop_op=$(last_op alpha)
follow_has_stop() { grep -q "\"operation_id\":\"$stop_op\".*operation-finished\|operation-finished.*$stop_op" "$T/follow.out"; }
wait_for "followed stop" 5 follow_has_stop || fail "events -f did not show the stop: $(cat "$T/follow.out")"
kill "$follower"
wait "$follower" 2>/dev/null
python3 -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
kinds = [r["kind"] for r in rs]
assert kinds[1:] == ["stop-requested", "vm-close-started", "vm-exited", "vm-close-finished",
                     "runtime-record-deleted", "operation-finished"], kinds
' "$T/follow.out" || fail "events -f output: $(cat "$T/follow.out")"

# A log that is not a log at all: reported, and nothing else is disturbed.
head -c 300 /dev/urandom > "$T/state/zones/gamma-not-a-zone.log"
printf 'not a record' > "$T/junk"
cp "$T/junk" "$T/state/zones/beta/lifecycle.log.2"
zc events beta > "$T/junk.out" 2> "$T/junk.err" || fail "events with a junk rotated file failed"
grep -q "lifecycle.log.2" "$T/junk.err" || fail "junk in lifecycle.log.2 was not reported: $(cat "$T/junk.err")"
grep -q "operation-finished" "$T/junk.out" || fail "the good records were lost"

# -n keeps the newest records; an unknown zone is exit 4.
[ "$(zc --json events -n 3 alpha | wc -l)" -eq 3 ] || fail "events -n 3"
expect_rc 4 zc events gamma
expect_rc 2 zc events
exit 0
