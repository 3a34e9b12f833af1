# fd_limit.sh: running out of file descriptors (RLIMIT_NOFILE lowered with
# prlimit on the running processes).  Protects: zonevisord out of
# descriptors logs that accept fails once, does not spin (its CPU time
# stays low), keeps its zones running, and serves the clients that waited
# once descriptors are freed; a worker out of descriptors fails its VM's
# spawn cleanly (failed{vm-spawn-failed}, the message naming EMFILE), the
# recovery policy backs off (a bounded number of attempts, little CPU),
# and the zone runs again once the limit is raised, never with two VMs.
# Skipped without prlimit(1).
. "$ZV_SRCDIR/tests/integration/lib.sh"

if ! command -v prlimit > /dev/null 2>&1; then
	echo "SKIP: $TEST_NAME: prlimit(1) is not installed" >&2
	exit 77
fi
HOLDER=
end_holder() {
	local rc=$?
	if [ -n "$HOLDER" ]; then
		kill "$HOLDER" 2>/dev/null
		wait "$HOLDER" 2>/dev/null
	fi
	(exit $rc)
	cleanup
}
trap end_holder EXIT

write_config
zone alpha "$(fake alpha)" "[recovery]" "restart_delay = 200ms" \
    "restart_delay_max = 1s" "max_failed_recoveries = 100"
zone beta "$(fake beta)"
start_daemon
for z in alpha beta; do
	wait_for "$z running" 10 state_is $z running || fail "$z did not start"
done
alpha_vm=$(zfield alpha pid)
beta_vm=$(zfield beta pid)
watch_vms alpha beta
nofile() { prlimit --pid "$1" --nofile --output "$2" --noheadings | tr -d ' '; }

# --- zonevisord: accept fails with EMFILE.
# A soft limit that leaves exactly two descriptors free; a client holds six
# connections: two are accepted, the rest wait in the listen queue.
sleep 0.3	# the clients above have closed their connections
soft=$(nofile "$DAEMON_PID" SOFT)
hard=$(nofile "$DAEMON_PID" HARD)
limit=$(python3 - "$DAEMON_PID" <<'PY'
import os, sys
fds = {int(f) for f in os.listdir("/proc/%s/fd" % sys.argv[1])}
n = 1
while n - len([f for f in fds if f < n]) != 2:
	n += 1
print(n)
PY
)
prlimit --pid "$DAEMON_PID" --nofile="$limit:$hard" || fail "prlimit on zonevisord failed"
ZV_SOCK=$SOCK ZV_READY=$T/held ZV_RELEASE=$T/release python3 -c '
import os, socket, time
socks = []
for i in range(6):
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(os.environ["ZV_SOCK"])
	socks.append(s)
open(os.environ["ZV_READY"], "w").close()
deadline = time.time() + 60
while not os.path.exists(os.environ["ZV_RELEASE"]) and time.time() < deadline:
	time.sleep(0.05)
' &
HOLDER=$!
wait_for "connections held" 10 test -e "$T/held" || fail "the client could not connect"
accept_failed() { grep -q "control: accept failed" "$T/daemon.log"; }
wait_for "accept failing" 10 accept_failed || fail "zonevisord did not log that accept fails"
grep "control: accept failed" "$T/daemon.log" | grep -q "Too many open files" ||
    fail "the accept failure does not say why: $(grep "accept failed" "$T/daemon.log")"
# A client now waits in the queue.
zc --json status > "$T/waiting.out" 2>&1 &
waiting=$!
t0=$(cpu_ticks "$DAEMON_PID")
sleep 2
used=$(( $(cpu_ticks "$DAEMON_PID") - t0 ))
[ "$used" -le 20 ] || fail "zonevisord used $used ticks of CPU in 2s out of descriptors: it spins"
n=$(grep -c "control: accept failed" "$T/daemon.log")
[ "$n" -eq 1 ] || fail "the accept failure was logged $n times"
alive "$waiting" || fail "the waiting client was answered while zonevisord had no descriptor: $(cat "$T/waiting.out")"
alive "$alpha_vm" && alive "$beta_vm" || fail "a VM died while zonevisord was out of descriptors"
# Freed: the waiting client is served, and new ones too.
touch "$T/release"
wait "$HOLDER"
HOLDER=
wait_for "the waiting client answered" 10 not_alive "$waiting" || fail "the waiting client was never answered"
wait "$waiting" || fail "the waiting client failed: $(cat "$T/waiting.out")"
grep -q '"state": *"running"' "$T/waiting.out" || fail "the waiting client got: $(cat "$T/waiting.out")"
grep -q "control: accepting clients again" "$T/daemon.log" || fail "no word that accept works again"
prlimit --pid "$DAEMON_PID" --nofile="$soft:$hard" || fail "cannot restore zonevisord's limit"
[ "$(zfield alpha pid)" = "$alpha_vm" ] && [ "$(zfield beta pid)" = "$beta_vm" ] ||
    fail "zones were disturbed while zonevisord was out of descriptors"

# --- alpha's worker: the VM's spawn fails with EMFILE.
worker=$(zfield alpha worker_pid)
soft=$(nofile "$worker" SOFT)
hard=$(nofile "$worker" HARD)
prlimit --pid "$worker" --nofile="3:$hard" || fail "prlimit on the worker failed"
kill -KILL "$alpha_vm"
spawn_backs_off alpha EMFILE "$worker"
[ "$(zfield beta pid)" = "$beta_vm" ] || fail "beta was disturbed"
prlimit --pid "$worker" --nofile="$soft:$hard" || fail "cannot restore the worker's limit"
wait_for "alpha running again" 10 zone_up alpha || fail "alpha is $(zfield alpha state) once descriptors were back"
[ "$(zfield alpha worker_pid)" = "$worker" ] || fail "alpha's worker was replaced"
[ "$(vm_count alpha)" -eq 1 ] || fail "alpha has $(vm_count alpha) VMs"
check_vms
exit 0
