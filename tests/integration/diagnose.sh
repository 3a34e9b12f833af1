# diagnose.sh: zonectl diagnose and the runtime record as an operator meets
# them.  Protects: readiness, blocker, last operation and the original
# outage cause (set once, never overwritten by a later failure, cleared once
# healthy); a runtime record that is unreadable or belongs to another zone
# makes the zone owner-unsafe with its path and reason, refuses starts, and
# never crashes the daemon.
. "$ZV_SRCDIR/tests/integration/lib.sh"

write_config
cp "$FAKE" "$T/vm"
zone alpha "$T/vm --marker alpha --start-file $T/alpha.starts" "${manual[@]}"
mkdir -p "$T/state/zones/beta" "$T/state/zones/gamma"
chmod 700 "$T/state" "$T/state/zones"
printf 'garbage, not msgpack' > "$T/state/zones/beta/runtime"
zone beta "$(fake beta)"
python3 - "$T/state/zones/gamma/runtime" <<'PY'
import struct, sys
# A msgpack map written for zone "other": {"version": 1, "zone": "other", ...}
def s(x):
    b = x.encode()
    return bytes([0xa0 | len(b)]) + b
fields = [("version", 1), ("zone", "other"), ("state_dir", "/elsewhere"),
          ("boot_id", "x"), ("vm_pid", 1), ("vm_start_time", 1),
          ("command_digest", "0"), ("worker_pid", 1), ("supervisor_pid", 1),
          ("operation_id", "other-start-x"), ("generation", 0), ("written_at", 0)]
out = bytes([0x80 | len(fields)])
for k, v in fields:
    out += s(k) + (s(v) if isinstance(v, str) else bytes([v]))
open(sys.argv[1], "wb").write(out)
PY
zone gamma "$(fake gamma)"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"

# Unreadable and foreign runtime records: owner-unsafe, with path and reason.
wait_for "beta owner-unsafe" 10 state_is beta owner-unsafe || fail "beta is $(zfield beta state)"
[ "$(json "z['beta']['evidence']['kind']")" = record-parse-error ] || fail "beta evidence $(zfield beta evidence)"
json "z['beta']['evidence']['detail']" | grep -q "zones/beta/runtime: " || fail "beta detail: $(json "z['beta']['evidence']['detail']")"
state_is gamma owner-unsafe || fail "gamma is $(zfield gamma state)"
[ "$(json "z['gamma']['evidence']['kind']")" = record-scope-mismatch ] || fail "gamma evidence $(zfield gamma evidence)"
json "z['gamma']['evidence']['detail']" | grep -q "zone other" || fail "gamma detail"
expect_rc 1 zc start beta
[ "$(vm_count beta)" -eq 0 ] || fail "an owner-unsafe zone started a VM"
zc diagnose beta > "$T/diag" || fail "diagnose beta failed"
grep -q "^readiness: *owner-unsafe" "$T/diag" && grep -q "^blocker: *owner-unsafe" "$T/diag" ||
    fail "diagnose beta: $(cat "$T/diag")"
grep -q "^evidence: *record-parse-error" "$T/diag" || fail "diagnose beta: $(cat "$T/diag")"
zc status > "$T/table"
grep -q "^beta  *owner-unsafe" "$T/table" || fail "status table: $(cat "$T/table")"

# diagnose of a healthy zone.
d() { zc --json diagnose alpha | python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps($1) if not isinstance($1, str) else $1)"; }
[ "$(d 'd["readiness"]')" = running ] || fail "readiness $(d 'd["readiness"]')"
[ "$(d 'd["blocker"]')" = none ] || fail "blocker"
[ "$(d 'd["original_outage_cause"]')" = null ] || fail "outage cause of a healthy zone"
[ "$(d 'd["last_operation"]["result"]')" = finished ] || fail "last operation"
[ "$(d 'd["worker"]["alive"]')" = true ] || fail "worker liveness"
[ "$(d 'd["tool_vm_plane"]')" = none ] || fail "tool VM plane"

# The VM dies: readiness failed, blocker and outage cause vm-process-missing.
kill -KILL "$(zfield alpha pid)"
wait_for "alpha failed" 10 state_is alpha failed || fail "alpha is $(zfield alpha state)"
[ "$(d 'd["readiness"]')" = failed ] || fail "readiness after death"
[ "$(d 'd["blocker"]')" = vm-process-missing ] || fail "blocker after death"
[ "$(d 'd["original_outage_cause"]["code"]')" = vm-process-missing ] || fail "outage cause"
at=$(d 'd["original_outage_cause"]["at"]')
# A later failure while still down (the command is gone now) is the
# blocker, but the original cause stays.
rm "$T/vm"
expect_rc 1 zc start alpha
[ "$(d 'd["blocker"]')" = vm-spawn-failed ] || fail "blocker after a failed start: $(d 'd["blocker"]')"
[ "$(d 'd["original_outage_cause"]["code"]')" = vm-process-missing ] || fail "the outage cause was overwritten"
[ "$(d 'd["original_outage_cause"]["at"]')" = "$at" ] || fail "the outage time was overwritten"
[ "$(d 'd["last_operation"]["result"]')" = failed ] || fail "last operation result"
# Healthy again: no outage.
cp "$FAKE" "$T/vm"
expect_rc 0 zc start alpha
[ "$(d 'd["original_outage_cause"]')" = null ] || fail "outage cause kept after recovery"
alive "$DAEMON_PID" || fail "zonevisord died"
exit 0
