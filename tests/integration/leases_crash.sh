#!/bin/bash
# leases_crash.sh: tool VMs outlive the processes that lent them.  When
# zonevisord and its worker are killed together, the tool VMs they leave
# keep running; the next zonevisord's worker finds them through their
# lease records, checks their identity and stops them, records it, and
# lends the slots again only once they are gone.  A worker killed alone
# is replaced, and its successor does the same.  A record naming a process
# that is gone, or a process that merely reuses the pid, is deleted
# without a signal; an unreadable record is set aside; a tool VM that has
# no record yet is found by the marker in its environment.
. "$ZV_SRCDIR/tests/integration/lib.sh"

base=$((20000 + RANDOM % 20000))
write_config
zone alpha "$(fake alpha)" "[tool-vm]" \
    "command = $FAKE --marker tool-alpha --start-file $T/tool.starts" \
    "	--print %port" \
    "max_leases = 2" "base_port = $base"
start_daemon
wait_for "alpha running" 10 state_is alpha running || fail "alpha did not start"
acq() { zc --json lease acquire alpha | python3 -c 'import json, sys; l = json.load(sys.stdin)["lease"]; print(l["id"], l["pid"])'; }
read -r id0 t0 < <(acq)
read -r id1 t1 < <(acq)
[ -n "$t1" ] || fail "could not acquire two leases"
rec=$T/state/zones/alpha/leases

# zonevisord and its worker die together: the tool VMs stay behind.
crash "$DAEMON_PID" "$(zfield alpha worker_pid)"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
alive "$t0" && alive "$t1" || fail "the tool VMs died with zonevisord; nothing left to test"
[ -f "$rec/$id0" ] && [ -f "$rec/$id1" ] || fail "lease records missing after the crash"
# The gateway VM was left too: let the new daemon stop it at boot.

# Records the new daemon must judge without signalling anyone: one naming
# a process that is gone, one naming a live process that is not a tool VM
# (sleep, whose start time differs from the record's), one unreadable.
sleep 1000.$$ &
stranger=$!
python3 - "$rec" "$T/state" "$stranger" <<'PY'
import sys
def enc(v):
    if isinstance(v, int):
        return bytes([0xcf]) + v.to_bytes(8, "big")
    b = v.encode()
    return (bytes([0xa0 | len(b)]) if len(b) < 32 else bytes([0xd9, len(b)])) + b
d, state, stranger = sys.argv[1], sys.argv[2], int(sys.argv[3])
boot = open("/proc/sys/kernel/random/boot_id").read().strip()
for lid, pid in (("aaaaaaaa-0000-4000-8000-000000000001", 4194000),
                 ("aaaaaaaa-0000-4000-8000-000000000002", stranger)):
    f = [("version", 1), ("zone", "alpha"), ("state_dir", state), ("boot_id", boot),
         ("lease_id", lid), ("slot", 7), ("port", 1), ("owner", ""),
         ("vm_pid", pid), ("vm_start_time", 1), ("acquired_at", 0), ("ttl_ms", 1000),
         ("worker_pid", 1), ("supervisor_pid", 1), ("written_at", 0)]
    open(d + "/" + lid, "wb").write(bytes([0x80 | len(f)]) + b"".join(enc(k) + enc(v) for k, v in f))
open(d + "/garbage", "wb").write(b"\xc1not msgpack")
PY

# A tool VM spawned just before the crash, before its record was written:
# only its marker tells it apart.  (Its lease id, a path here, must not be
# believed.)
ZONEVISOR_TOOL_DIR=$T/state/zones/alpha ZONEVISOR_SLOT=1 \
    ZONEVISOR_LEASE=../../../zonevisor.conf \
    "$FAKE" --marker tool-alpha --start-file "$T/tool.starts" &
unrecorded=$!
wait_for "unrecorded tool VM up" 5 grep -q "^$unrecorded " "$T/tool.starts" || fail "no unrecorded tool VM"

start_daemon
wait_for "leftover tool VMs stopped" 10 sh -c "! kill -0 $t0 2>/dev/null && ! kill -0 $t1 2>/dev/null" ||
    fail "the new zonevisord left the old tool VMs running"
wait_for "unrecorded tool VM stopped" 10 not_alive "$unrecorded" ||
    fail "a tool VM without a record was left running"
wait "$unrecorded" 2>/dev/null
[ -f "$T/zonevisor.conf" ] || fail "a lease id from a process's environment deleted a file"
wait_for "alpha running" 10 state_is alpha running || fail "alpha is $(zfield alpha state)"
alive "$stranger" || fail "a process named by a stale record was signalled"
kill "$stranger"; wait "$stranger" 2>/dev/null
wait_for "records cleaned" 5 sh -c "[ -z \"\$(ls $rec | grep -v '\.bad$')\" ]" ||
    fail "lease records left: $(ls "$rec")"
[ -f "$rec/garbage.bad" ] || fail "the unreadable record was not set aside"
grep -q "garbage" "$T/daemon.log" || fail "the unreadable record was not reported"
zc --json events alpha -n 100 > "$T/ev.json"
[ "$(grep '"lease-released"' "$T/ev.json" | grep -c 'left by worker')" -ge 4 ] ||
    fail "the leftovers were not recorded: $(grep lease "$T/ev.json")"
[ "$(grep '"lease-released"' "$T/ev.json" | grep -c 'is gone')" -ge 2 ] ||
    fail "the stale records were not recorded as gone"
grep '"lease-released"' "$T/ev.json" | grep -q 'found by its marker' ||
    fail "the unrecorded tool VM was not recorded"
[ "$(zc --json lease list alpha | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["leases"]))')" = 0 ] ||
    fail "leftovers still listed"

# A worker killed alone: its successor stops the tool VMs it lent.
read -r id2 t2 < <(acq)
[ -n "$t2" ] || fail "could not acquire after the restart"
kill -KILL "$(zfield alpha worker_pid)"
wait_for "tool VM of the lost worker stopped" 15 not_alive "$t2" ||
    fail "the tool VM of a lost worker survived"
wait_for "alpha running after worker loss" 15 state_is alpha running || fail "alpha is $(zfield alpha state)"
wait_for "record of the lost worker's lease gone" 5 test ! -e "$rec/$id2" || fail "record $id2 remains"
read -r id3 t3 < <(acq)
[ -n "$t3" ] || fail "no lease after the worker loss"
exit 0
