# bench/peers.sh: shell functions, sourced by scripts/bench, that set up, run,
# query, measure and stop the supervisors operators use today -- runit, s6,
# daemontools and supervisord (the Debian packages runit, s6, daemontools,
# supervisor) -- so that zonevisor can be compared with them on one machine.
# Each peer supervises N services s1..sN that all run the same stand-in
# program (tests/fake-vm, which with no arguments appends "<pid> <realtime
# ns>" to $FAKE_VM_START_FILE and idles), configured for its FASTEST restart.
# The peers run from a scratch directory as ordinary background processes of
# the calling shell: none of them is made PID 1 and nothing is installed as
# a boot service.  Every process is ended by pid, never by name.
#
# Shell: POSIX sh plus `local` (dash, bash and busybox sh all have it; so
# does scripts/bench).  Needs /proc, awk (mawk is enough), cat, seq, xargs,
# ln (or perl), mkdir, touch, date, sed, dpkg-query.
#
# Interface (P is one of: runit s6 daemontools supervisord; see $PEERS):
#   peer_available P              true if P's programs are installed
#   peer_setup P DIR N STANDIN STARTFILE
#                                 write the configuration of s1..sN into the
#                                 empty directory DIR
#   peer_start P DIR STARTFILE    start P's scanner/daemon in the background
#                                 (FAKE_VM_START_FILE=STARTFILE in its
#                                 environment, output to DIR/peer.log); print
#                                 its pid and also set PEER_PID to it.  Call
#                                 it as `peer_start ... >file` or plainly, not
#                                 as $(peer_start ...), if you want the daemon
#                                 to stay a child of your shell (then
#                                 peer_stop can reap it).
#   peer_status P DIR             the operator's status command over all
#                                 services, output to stdout
#   peer_pids P ROOTPID           pids of the supervisor's own processes
#                                 (root and descendants, not the stand-ins,
#                                 nor anything below a stand-in)
#   peer_pss P ROOTPID            sum of their PSS in kB (smaps_rollup)
#   peer_stop P DIR ROOTPID       stop everything P started, by pid; warns
#                                 on stderr about any survivor (returns 1)
#   peer_version P                the Debian package version
#
# Recognising stand-ins: a process is a stand-in if its /proc/PID/comm is
# $STANDIN_COMM (default fake-vm) or "run": runsv, s6-supervise and
# supervise exec ./run, which here is a symlink to the stand-in (for s6, to
# a script that execs it), and the kernel names the process after the path
# exec'ed ("run"), not after the symlink's target.  supervisord execs the
# stand-in's own path.
#
# Fastest restart, and what the peers' own documentation says about it
# (read on this machine: runsv(8), supervise(8), svscan(8), runsvdir(8);
# the s6 package ships no documentation, so s6-supervise's is from its
# upstream doc/s6-supervise.html):
#   runit 2.1.2, runsv(8): "If ./run or ./finish exit immediately, runsv
#     waits a second before starting ./finish or restarting ./run."  Its
#     source sleeps 1 s (blocking) after the death of a ./run that ran for
#     less than 1 s (measured: killed after 0.3 s, back 1003-1008 ms after
#     the kill); a service up for more than 1 s is restarted at once (4-9
#     ms).  Nothing to configure (no ./finish is written: runsv would exec
#     it before every restart).
#   s6 2.11, s6-supervise: "There is a minimum 1-second delay between two
#     ./run spawns ... If the service has been ready for more than one
#     second, it will restart immediately, but if it [is] not ready when it
#     dies, s6-supervise will always pause for 1 second".  A service without
#     a notification-fd file is never "ready" (s6-svstat shows no "ready"),
#     so it is always restarted 1 s after its death (measured, and seen in
#     strace: a 1 s ppoll after ./finish).  Hence for s6 every service
#     has notification-fd 3 and the stand-in notifies readiness on it
#     itself (FAKE_VM_NOTIFY_FD; see peer_setup; PEER_S6_NOTIFY=0 for no
#     notification): then a service ready
#     for over 1 s is back in 3-5 ms, one killed 0.3 s after its start
#     ~0.7 s later (1 s after its start).  s6-supervise also always forks
#     for ./finish, even when there is none (its execve fails).  ./run is
#     given one argument (the service directory name); the stand-in
#     ignores it.
#   daemontools 0.76, supervise(8): "It pauses for a second after starting
#     ./run, so that it does not loop too quickly if ./run exits
#     immediately."  (supervise itself sleeps 1 s after every fork of ./run,
#     so it does not even answer svc/svstat during that second; killed
#     after 0.3 s, the service is back ~0.7 s later, 1 s after its start.)
#     A service up for more than 1 s is restarted at once (2-5 ms).
#   supervisord 4.2: autorestart=true, startsecs=0 (RUNNING at once, so a
#     quick exit is not a failed start and no backoff applies), startretries
#     large (only counts failed starts).  It has no minimum interval, but
#     its main loop is poll() with a 1 s timeout, then dispatch, transition
#     (spawn), reap: the pipe EOF of a dying child wakes it and it reaps the
#     child, but the respawn comes in the transition of the NEXT pass, after
#     poll() times out (nothing else is active): an idle supervisord
#     restarts a killed program ~1.01 s later, whatever its uptime.  Not
#     configurable.
#   None of the three daemontools-style supervisors can be told to restart
#   faster; scripts/bench runs zonevisor with restart_delay = 0.
#
# Things that make the comparison unfair (either way):
#   - runit/s6/daemontools run one supervisor process per service (runsv,
#     s6-supervise, supervise) plus the scanner: N+1 processes, whose PSS
#     is summed.  supervisord is one Python process.
#   - The stand-ins' stdout/stderr go to the scanner's stdout, i.e. the one
#     shared file DIR/peer.log; there is no per-service logger (an operator
#     would add log/ services running svlogd, s6-log or multilog: N more
#     processes).  zonevisor writes a console log file per VM.  supervisord
#     always reads its children's output through pipes; here it writes
#     each program's output to its own file in DIR/log (the closest to
#     zonevisor's console logs), with stderr merged into stdout.
#   - runsvdir and svscan poll: they rescan every 5 s (runsvdir only if the
#     directory's mtime/inode changed), but both scan once at start, so the
#     services written by peer_setup start at once.  s6-svscan scans once
#     at start and then only when told (s6-svscanctl -a, SIGALRM/SIGHUP).
#   - Limits on N: runsvdir and daemontools' svscan have a compiled-in limit
#     of 1000 services (with N = 1001 both start 1000 and log "too many
#     services"), so N > 1000 cannot be compared with them.  s6-svscan 2.11
#     starts at most 500 unless given -c maxservices; peer_start passes -c.
#     supervisord holds 3 descriptors per program (stdin and stdout pipes,
#     log file: 3007 for N = 1000); peer_setup sets minfds to 4N+1024, which
#     supervisord raises its soft RLIMIT_NOFILE to, and it refuses to start
#     if the hard limit is lower.
#   - runsvdir sleeps 1 s before scanning a directory modified in the
#     current second; peer_setup dates the scan directory 2 s back.
#   - The scanners are started from a non-interactive shell, which starts
#     background jobs with SIGINT and SIGQUIT ignored; that is inherited.
#   - Under s6 every stand-in is a session leader (s6-supervise does
#     setsid); supervisord puts each in a process group of its own; under
#     runit (runsvdir without -P) and daemontools the supervisors and
#     stand-ins all share the scanner's process group.
#   - Status: sv and svstat read N status files in one process; s6 has no
#     multi-service status tool, so peer_status runs s6-svstat N times
#     (N fork+execs); supervisorctl is a Python client and one XML-RPC
#     call.
#   - supervisord stops one group at a time: with one [program] section
#     per service, SIGTERM to it takes seconds for N = 1000.
#   - Stopping: runsvdir (SIGHUP) and svscan (SIGTERM) exit at once and
#     leave their runsv/supervise children to be reparented to the nearest
#     subreaper or PID 1, which must reap them; if it does so late (a
#     container's stub init), peer_stop sees them as zombies and says so
#     in a note, but they are dead.

PEERS="runit s6 daemontools supervisord"
: "${STANDIN_COMM:=fake-vm}"
: "${PEER_STOP_WAIT:=10}"	# seconds to wait for a graceful stop (then KILL);
				# supervisord needs ~5 s for 1000 programs

# _peer_check P: fail with a message unless P is a peer we know.
_peer_check() {
	case "$1" in
	runit|s6|daemontools|supervisord) return 0 ;;
	esac
	echo "peers.sh: unknown peer '$1' (known: $PEERS)" >&2
	return 2
}

# _peer_stats: one /proc/PID/stat line per process (those that vanish while
# being read are skipped).
_peer_stats() {
	cat /proc/[0-9]*/stat 2>/dev/null
}

# The awk that reads /proc/PID/stat lines: the comm field is in parentheses
# and may hold spaces, so split after the ") STATE PPID " that follows it.
# Sets pid, comm, state, ppid and start (field 22, starttime: with the pid
# it names a process even if the pid is reused later).
_PEER_AWK_STAT='
function pstat(line,   f, n) {
	if (!match(line, /\) [A-Za-z] -?[0-9]+ /))
		return 0
	pid = substr(line, 1, index(line, " (") - 1)
	comm = substr(line, index(line, " (") + 2, RSTART - index(line, " (") - 2)
	n = split(substr(line, RSTART + 2), f, " ")
	state = f[1]; ppid = f[2]; start = f[20]
	return 1
}'

# _peer_tree MODE ROOTPID: print "pid starttime comm" for ROOTPID and its
# descendants (by ppid).  MODE all: everything; MODE own: not the
# stand-ins, nor their descendants.
_peer_tree() {
	_peer_stats | awk -v mode="$1" -v root="$2" \
	    -v skip="$(printf %.15s "$STANDIN_COMM") run" "$_PEER_AWK_STAT"'
	BEGIN { n = split(skip, s, " "); for (i = 1; i <= n; i++) isskip[s[i]] = 1 }
	pstat($0) {
		c[pid] = comm; st[pid] = start; kids[ppid] = kids[ppid] " " pid
	}
	END {
		if (!(root in c))
			exit
		q[1] = root; head = 1; tail = 1
		while (head <= tail) {
			p = q[head++]
			if (mode == "own" && p != root && (c[p] in isskip))
				continue
			print p, st[p], c[p]
			n = split(kids[p], k, " ")
			for (i = 1; i <= n; i++)
				q[++tail] = k[i]
		}
	}'
}

# _peer_alive LIST: of LIST's "pid starttime ..." lines, print "pid state
# ppid comm" for those processes that still exist (zombies included, state
# Z).
_peer_alive() {
	{ printf '%s\n' "$1" | sed 's/^/L /'; _peer_stats; } |
	    awk "$_PEER_AWK_STAT"'
	$1 == "L" { want[$2] = $3; next }
	pstat($0) && (pid in want) && want[pid] == start { print pid, state, ppid, comm }'
}

# _peer_names LIST: "N process(es): pid(comm) ..." for _peer_alive's LIST,
# at most 20 of them.
_peer_names() {
	printf '%s\n' "$1" | awk 'NF { n++; if (n <= 20) { l = l " " $1 "(" $4 ")" } }
	    END { printf "%d process(es):%s%s", n, l, (n > 20 ? " ..." : "") }'
}

# _peer_wait_gone LIST MS: wait up to MS milliseconds for the processes of
# LIST (as _peer_alive takes it) to be gone or zombies; print those left.
_peer_wait_gone() {
	local t left
	t=$(($(_peer_ms) + $2))
	while :; do
		left=$(_peer_alive "$1" | awk '$2 != "Z"')
		[ -z "$left" ] && break
		[ "$(_peer_ms)" -ge "$t" ] && break
		sleep 0.1
	done
	printf '%s' "$left"
}

# _peer_ms: the time in milliseconds (GNU date).
_peer_ms() {
	date +%s%3N
}

# peer_available P
peer_available() {
	local prog
	_peer_check "$1" || return
	case "$1" in
	runit) set -- runsvdir runsv sv ;;
	s6) set -- s6-svscan s6-supervise s6-svstat s6-svscanctl ;;
	daemontools) set -- svscan supervise svstat svc ;;
	supervisord) set -- supervisord supervisorctl ;;
	esac
	for prog; do
		command -v "$prog" >/dev/null 2>&1 || return 1
	done
}

# peer_version P
peer_version() {
	_peer_check "$1" || return
	case "$1" in
	supervisord) set -- supervisor ;;
	esac
	dpkg-query -W -f='${Version}' "$1"
}

# peer_setup P DIR N STANDIN STARTFILE
peer_setup() {
	local peer="$1" dir="$2" n="$3" standin="$4" startfile="$5" i target
	_peer_check "$peer" || return
	case "$standin" in
	/*) ;;
	*) echo "peer_setup: STANDIN must be an absolute path" >&2; return 2 ;;
	esac
	case "$peer" in
	runit|s6|daemontools)
		# One service directory per service, whose run is a symlink
		# to the stand-in: the supervisor execs it directly, no shell
		# in between (zonevisor execs its VM directly too).  The
		# start file reaches the stand-in through the environment the
		# scanner is started with (peer_start), which runsvdir/runsv,
		# s6-svscan/s6-supervise and svscan/supervise pass on
		# unchanged.  No down, finish or log files: each would cost
		# time or processes (for s6's notification-fd see below).
		# s6-supervise (2.11) restarts a service at once only if it
		# has been *ready* for more than 1 s, and one without a
		# notification-fd file is never ready: every restart would
		# wait 1 s (measured: 1005-1010 ms after a SIGKILL, whatever
		# the uptime).  So for s6 each service has notification-fd 3,
		# and the stand-in, told by FAKE_VM_NOTIFY_FD=3 (peer_start),
		# writes the newline there itself: still no shell in between.
		# PEER_S6_NOTIFY=0: no notification-fd, 1 s restarts.
		target=$standin
		mkdir -p "$dir/services" || return
		seq -f "$dir/services/s%.0f" 1 "$n" | xargs mkdir || return
		# N ln(1)s are N fork+execs (seconds for N = 1000); perl
		# (perl-base is Essential in Debian) makes them in one process.
		if command -v perl >/dev/null 2>&1; then
			perl -e 'for (1 .. $ARGV[1]) { symlink($ARGV[0],
			    "$ARGV[2]/s$_/run") or die "s$_/run: $!\n" }' \
			    "$target" "$n" "$dir/services" || return
		else
			i=1
			while [ "$i" -le "$n" ]; do
				ln -s "$target" "$dir/services/s$i/run" || return
				i=$((i + 1))
			done
		fi
		if [ "$peer" = s6 ] && [ "${PEER_S6_NOTIFY:-1}" = 1 ]; then
			i=1
			while [ "$i" -le "$n" ]; do
				echo 3 > "$dir/services/s$i/notification-fd" ||
				    return
				i=$((i + 1))
			done
		fi
		if [ "$peer" = s6 ]; then
			# s6-svscan's control directory; it would create it
			# itself, but upstream recommends providing it.
			mkdir -p "$dir/services/.s6-svscan" || return
		fi
		# runsvdir sleeps 1 s before a scan if the scan directory was
		# modified in the current second (runsvdir.c: "if (now <=
		# mtime) sleep(1)"), so that it cannot miss a change made in
		# the same second.  A configuration written just now would
		# thus add 1 s to runit's start; an operator's was written
		# long before.  Date the directory 2 s back to model that.
		touch -m -d "@$(($(date +%s) - 2))" "$dir/services" || return
		;;
	supervisord)
		# One [program:sN] section per service, as an operator writes
		# for services that are distinct (each zonevisor zone has a
		# configuration of its own; with supervisord they would be
		# files in conf.d).  numprocs=N in one section starts the same
		# number of Subprocess objects (one group instead of N) and is
		# what an operator would write for N identical workers: set
		# PEER_SUPERVISORD_NUMPROCS=1 to get that variant (names
		# become s:s1..s:sN).
		# Fastest restart: autostart, autorestart=true, startsecs=0,
		# startretries large.  Output: each program's stdout (stderr
		# merged) to a file in DIR/log, like zonevisor's console log;
		# supervisord itself logs warnings only, to DIR.  minfds:
		# supervisord keeps 3 descriptors open per child (stdin and
		# stdout pipes, log file) and raises its soft RLIMIT_NOFILE to
		# minfds if it can (it refuses to start if it cannot).  The
		# socket path must fit in sun_path (107 bytes).
		mkdir -p "$dir/log" || return
		{
			printf '%s\n' \
			    '[unix_http_server]' \
			    "file=$dir/supervisor.sock" \
			    'chmod=0700' \
			    '' \
			    '[supervisord]' \
			    'nodaemon=true' \
			    "logfile=$dir/supervisord.log" \
			    'loglevel=warn' \
			    "pidfile=$dir/supervisord.pid" \
			    "childlogdir=$dir/log" \
			    "minfds=$((4 * n + 1024))" \
			    "environment=FAKE_VM_START_FILE=\"$startfile\"" \
			    '' \
			    '[rpcinterface:supervisor]' \
			    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface' \
			    '' \
			    '[supervisorctl]' \
			    "serverurl=unix://$dir/supervisor.sock" \
			    ''
			if [ "${PEER_SUPERVISORD_NUMPROCS:-0}" = 1 ]; then
				printf '%s\n' '[program:s]' \
				    'process_name=s%(process_num)d' \
				    "numprocs=$n" 'numprocs_start=1'
				_peer_supervisord_program "$standin" \
				    "$dir/log/s%(process_num)d.log"
			else
				i=1
				while [ "$i" -le "$n" ]; do
					printf '[program:s%d]\n' "$i"
					_peer_supervisord_program "$standin" \
					    "$dir/log/s$i.log"
					i=$((i + 1))
				done
			fi
		} > "$dir/supervisord.conf" || return
		;;
	esac
	printf '%s\n' "$n" > "$dir/peer.n"
}

_peer_supervisord_program() {	# STANDIN LOGFILE: body of a section
	printf '%s\n' \
	    "command=$1" \
	    'autostart=true' \
	    'autorestart=true' \
	    'startsecs=0' \
	    'startretries=1000000' \
	    'redirect_stderr=true' \
	    "stdout_logfile=$2" \
	    ''
}

# peer_start P DIR STARTFILE: print the pid of the scanner/daemon (and set
# PEER_PID).
peer_start() {
	local peer="$1" dir="$2" startfile="$3" n
	_peer_check "$peer" || return
	case "$peer" in
	runit)
		# Without -P (the default): runsv's, and their ./run, stay in
		# runsvdir's process group and session.
		set -- runsvdir "$dir/services" ;;
	s6)
		# -c: room for all our services: s6-svscan 2.11 starts at
		# most 500 by default ("unable to start supervisor for sN:
		# too many services" for the others).
		n=$(cat "$dir/peer.n" 2>/dev/null || echo 1000)
		[ "$n" -lt 1000 ] && n=1000
		set -- s6-svscan -c "$n" "$dir/services" ;;
	daemontools)
		set -- svscan "$dir/services" ;;
	supervisord)
		set -- supervisord -c "$dir/supervisord.conf" ;;
	esac
	if [ "$peer" = s6 ]; then
		FAKE_VM_NOTIFY_FD=3 FAKE_VM_START_FILE=$startfile "$@" \
		    </dev/null >"$dir/peer.log" 2>&1 &
	else
		FAKE_VM_START_FILE=$startfile "$@" </dev/null \
		    >"$dir/peer.log" 2>&1 &
	fi
	PEER_PID=$!
	echo "$PEER_PID"
}

# peer_status P DIR: the status of every service, the operator's way.
peer_status() {
	local peer="$1" dir="$2" d
	_peer_check "$peer" || return
	case "$peer" in
	runit)
		# sv reads each supervise/status file; takes many services.
		sv status "$dir"/services/* ;;
	s6)
		# s6-svstat takes exactly one service directory, and s6 has
		# no other tool that reports a whole scan directory
		# (s6-svscanctl only sends commands; s6-instance-status is
		# for s6-instance-* directories; s6-rc is another package):
		# an operator loops, one fork+exec per service.
		for d in "$dir"/services/*; do
			printf '%s: ' "${d##*/}"
			s6-svstat "$d"
		done ;;
	daemontools)
		svstat "$dir"/services/* ;;
	supervisord)
		# One XML-RPC call (getAllProcessInfo) over the unix socket.
		supervisorctl -c "$dir/supervisord.conf" status ;;
	esac
}

# peer_pids P ROOTPID: the supervisor's own processes, one pid a line.
peer_pids() {
	_peer_check "$1" || return
	_peer_tree own "$2" | cut -d' ' -f1
}

# peer_pss P ROOTPID: the sum of PSS (kB) over peer_pids.
peer_pss() {
	_peer_check "$1" || return
	peer_pids "$1" "$2" | sed 's|.*|/proc/&/smaps_rollup|' |
	    xargs cat 2>/dev/null | awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}

# peer_stop P DIR ROOTPID: end the peer and everything below it, by pid.
peer_stop() {
	local peer="$1" dir="$2" root="$3" all left t
	_peer_check "$peer" || return
	# Collect first: once the scanner is gone its children are
	# reparented and could no longer be found from ROOTPID.
	all=$(_peer_tree all "$root")
	if [ -z "$all" ]; then
		wait "$root" 2>/dev/null
		return 0
	fi
	case "$peer" in
	runit)
		# runsvdir: HUP = TERM every runsv, then exit; runsv: TERM =
		# `sv exit` (TERM+CONT to ./run, exit when it is down).
		kill -HUP "$root" 2>/dev/null ;;
	s6)
		# s6-svscan: TERM = s6-svscanctl -t: every s6-supervise
		# brings its service down and exits, then s6-svscan exits.
		kill -TERM "$root" 2>/dev/null ;;
	daemontools)
		# svscan has no graceful stop (TERM just kills it; left alive
		# it would restart every supervise that exits).  Kill it,
		# then tell every supervise to stop its service and exit
		# (svc -dx: TERM+CONT to ./run).
		kill -TERM "$root" 2>/dev/null
		svc -dx "$dir"/services/* 2>/dev/null ;;
	supervisord)
		# TERM: stop every program (TERM, up to stopwaitsecs), exit.
		kill -TERM "$root" 2>/dev/null ;;
	esac
	left=$(_peer_wait_gone "$all" $((PEER_STOP_WAIT * 1000)))
	if [ -n "$left" ]; then
		echo "peer_stop $peer: still alive after ${PEER_STOP_WAIT}s," \
		    "sending KILL: $(_peer_names "$left")" >&2
		for t in $(printf '%s\n' "$left" | cut -d' ' -f1); do
			kill -KILL "$t" 2>/dev/null
		done
		left=$(_peer_wait_gone "$all" 3000)
	fi
	# Reap the root if it is our child (harmless if it is not).
	wait "$root" 2>/dev/null
	left=$(_peer_alive "$all")
	all=$(printf '%s\n' "$left" | awk 'NF && $2 != "Z"')
	if [ -n "$all" ]; then
		echo "peer_stop $peer: WARNING: survivors: $(_peer_names "$all")" >&2
		return 1
	fi
	if [ -n "$left" ]; then
		# Dead, but their parent (the init, once the scanner is gone)
		# has not reaped them.
		echo "peer_stop $peer: note: $(printf '%s\n' "$left" | wc -l)" \
		    "dead process(es) not reaped by their parent (ppid" \
		    "$(printf '%s\n' "$left" | awk '{ print $3 }' | sort -u | tr '\n' ' ' | sed 's/ $//'))" >&2
	fi
	return 0
}
