# bench/ours.sh: shell functions, sourced by scripts/bench, that run
# zonevisor and the floors the benchmark compares it with, behind the same
# interface as bench/peers.sh, so that the driver treats every supervisor
# alike.  Needs $BUILD (the build tree) and $STANDIN (tests/fake-vm).
#
#   ours_setup S DIR N STARTFILE   write S's configuration for N services
#   ours_start S DIR STARTFILE     start S in the background, as a child of
#                                  the calling shell; sets PEER_PID
#   ours_stop S DIR PID            stop it (SIGTERM, then SIGKILL after
#                                  10 s) and reap it
#   ours_pids S PID                pids of S's own processes (not the
#                                  stand-ins)
#   ours_cpu_ns PID                CPU time in ns used so far by zonevisord
#                                  PID and its workers, every thread
#
# S is one of:
#   zonevisor   zonevisord with N zones s1..sN, each running the stand-in
#               with restart_delay = 0, records on (durable), autostart.
#   floor       for N = 1, bench/floor: holds the stand-in by pidfd and
#               re-execs it the moment it dies (floor a); for N > 1,
#               bench/spawn-floor: forks and execs N stand-ins from one
#               process (floor b).
#   floor-tree  bench/spawn-floor -t: N stand-ins, each started by a process
#               of its own, as under a supervisor with a process per service
#               (boot only).

# ours_setup S DIR N STARTFILE
ours_setup() {
	local s=$1 dir=$2 n=$3 starts=$4 i
	mkdir -p "$dir"
	echo "$n" > "$dir/n"
	[ "$s" = zonevisor ] || return 0
	mkdir -p "$dir/zones.d"
	printf '%s\n' "[supervisor]" "state_dir = $dir/state" \
	    "runtime_dir = $dir/run" "zones_dir = $dir/zones.d" \
	    "log_target = stderr" > "$dir/zonevisor.conf"
	for i in $(seq 1 "$n"); do
		printf '%s\n' "[gateway]" "command = $STANDIN --start-file $starts" \
		    "[recovery]" "restart_delay = 0" "stable_after = 200ms" \
		    > "$dir/zones.d/s$i.conf"
	done
}

# ours_start S DIR STARTFILE
ours_start() {
	local s=$1 dir=$2 starts=$3 n
	n=$(cat "$dir/n" 2>/dev/null || echo 1)
	case "$s" in
	zonevisor)
		"$BUILD/zonevisord" -d -f "$dir/zonevisor.conf" \
		    2> "$dir/daemon.log" &
		;;
	floor-tree)
		FAKE_VM_START_FILE=$starts "$BUILD/bench/spawn-floor" -t \
		    "$n" "$STANDIN" &
		;;
	floor)
		if [ "$n" -le 1 ]; then
			FAKE_VM_START_FILE=$starts "$BUILD/bench/floor" \
			    "$STANDIN" &
		else
			FAKE_VM_START_FILE=$starts "$BUILD/bench/spawn-floor" \
			    "$n" "$STANDIN" &
		fi
		;;
	esac
	PEER_PID=$!
}

# ours_pids S PID: the root and its descendants that are not stand-ins
ours_pids() {
	local pid=$2 kid
	echo "$pid"
	for kid in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
		[ "$(cat /proc/"$kid"/comm 2>/dev/null)" = fake-vm ] ||
		    ours_pids "$1" "$kid"
	done
}

# ours_stop S DIR PID
ours_stop() {
	local pid=$3 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ours_cpu_ns PID: the first field of schedstat is the time on a CPU (ns)
ours_cpu_ns() {
	local p
	for p in $(ours_pids zonevisor "$1"); do
		cat /proc/"$p"/task/*/schedstat 2>/dev/null
	done | awk '{ s += $1 } END { printf "%d\n", s }'
}
