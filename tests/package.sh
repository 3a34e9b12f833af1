#!/bin/sh
# tests/package.sh: the Debian package end to end, as root, on this machine.
# Builds it with scripts/package, runs lintian on it (an error fails, the
# warnings are listed), installs it with apt-get, and checks: the system
# user and group zonevisor; the modes and owners of the programs, the
# configuration, the unit and the state directory; the conffile and its
# control_group; the unit (systemd-analyze verify, enabled); that zonevisord
# accepts the packaged configuration (-n) and runs with it as the unit
# would, answering zonectl version and status as root and as a member of
# the group zonevisor and refusing a non-member; and that it shuts down
# with exit 0.  Then it purges the package (apt-get purge, which is dpkg
# --purge that waits for the dpkg lock) and checks what is gone and what
# stays (the user and group, as is Debian practice).  A user or group
# zonevisor that this run created is deleted at the end, so the machine is
# left as it was.  It refuses to run where zonevisor is already installed or
# its directories exist.  .ci/run runs it; make check does not: it takes
# minutes and changes the machine.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '%s\n' "package.sh: $*"; }
fail() { printf '%s\n' "package.sh: FAIL: $*" >&2; exit 1; }
apt() {
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}
elapsed() { echo $(($(date +%s) - t0))s; }

[ "$(id -u)" -eq 0 ] || { echo "package.sh: needs root (it installs the package)" >&2; exit 77; }

status=$(dpkg-query -W -f='${db:Status-Status}' zonevisor 2>/dev/null || true)
case $status in
"" | not-installed) ;;
*) fail "the package zonevisor is on this machine ($status); not touching it" ;;
esac
for p in /etc/zonevisor /var/lib/zonevisor /run/zonevisor; do
	[ ! -e "$p" ] || fail "$p exists (a zonevisor installed by hand?); not touching it"
done
user_existed=no group_existed=no
getent passwd zonevisor >/dev/null && user_existed=yes
getent group zonevisor >/dev/null && group_existed=yes

T=$(mktemp -d "${TMPDIR:-/tmp}/zv-pkgtest.XXXXXX")
daemon=""
made_rundir=no
cleanup() {
	set +e
	if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
		kill -KILL "$daemon"
		wait "$daemon" 2>/dev/null
	fi
	case $(dpkg-query -W -f='${db:Status-Status}' zonevisor 2>/dev/null) in
	"" | not-installed) ;;
	*) say "cleanup: purging zonevisor"; apt purge -y zonevisor >/dev/null ;;
	esac
	[ "$made_rundir" = yes ] && rm -rf /run/zonevisor
	if [ "$user_existed" = no ] && getent passwd zonevisor >/dev/null; then
		userdel zonevisor
	fi
	if [ "$group_existed" = no ] && getent group zonevisor >/dev/null; then
		groupdel zonevisor
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

t0=$(date +%s)
# 1. Build.
deb=$("$top/scripts/package" --out "$T/deb")
say "built $deb in $(elapsed)"
version=$(cat "$top/VERSION")

# 2. lintian: errors fail, warnings are listed.
if ! command -v lintian >/dev/null 2>&1; then
	apt update >/dev/null
	apt install -y --no-install-recommends lintian >/dev/null
fi
# The .changes: both packages (zonevisor, zonevisor-dbgsym) and the
# .buildinfo.  Overrides (debian/zonevisor.lintian-overrides) are listed.
lint_rc=0
lintian --tag-display-limit 0 --show-overrides "${deb%.deb}.changes" \
    >"$T/lintian.out" 2>&1 || lint_rc=$?
grep -v 'running with root privileges' "$T/lintian.out" | sed 's/^/lintian: /' || true
if grep -q '^E: ' "$T/lintian.out" || [ "$lint_rc" -ne 0 ]; then
	fail "lintian reports errors (exit $lint_rc)"
fi
say "lintian: $(grep -c '^E: ' "$T/lintian.out") errors, $(grep -c '^W: ' "$T/lintian.out") warnings, $(grep -c '^O: ' "$T/lintian.out") overridden ($(elapsed))"

# 3. Install.
apt install -y --no-install-recommends "$deb" >"$T/install.out" 2>&1 ||
    { cat "$T/install.out" >&2; fail "apt-get install $deb"; }
[ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' zonevisor)" = "installed $version" ] ||
    fail "zonevisor $version is not installed"
say "installed ($(elapsed))"

# 4. The user and group.
pw=$(getent passwd zonevisor) || fail "no user zonevisor"
gr=$(getent group zonevisor) || fail "no group zonevisor"
zgid=$(echo "$gr" | cut -d: -f3)
uid=$(echo "$pw" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "user zonevisor is not a system user (uid $uid)"
[ "$zgid" -lt 1000 ] || fail "group zonevisor is not a system group (gid $zgid)"
[ "$(echo "$pw" | cut -d: -f4)" = "$zgid" ] || fail "user zonevisor's group is not zonevisor: $pw"
[ "$(echo "$pw" | cut -d: -f7)" = /usr/sbin/nologin ] || fail "user zonevisor has a shell: $pw"
say "user: $pw; group: $gr"

# 5. Files, modes, owners.
mode() {
	got=$(stat -c '%a %U:%G' "$1" 2>/dev/null) || fail "$1 is missing"
	[ "$got" = "$2" ] || fail "$1 is $got, not $2"
	say "$1: $got"
}
unit=$(dpkg -L zonevisor | grep '/systemd/system/zonevisord\.service$') ||
    fail "the package has no zonevisord.service"
case $unit in
/lib/systemd/system/* | /usr/lib/systemd/system/*) ;;
*) fail "the unit is at $unit, where systemd does not look" ;;
esac
mode /usr/sbin/zonevisord "755 root:root"
mode /usr/bin/zonectl "755 root:root"
mode /etc/zonevisor "755 root:root"
mode /etc/zonevisor/zonevisor.conf "644 root:root"
mode /etc/zonevisor/zones.d "755 root:root"
mode /etc/zonevisor/zones.d/gateway.conf.example "644 root:root"
mode "$unit" "644 root:root"
mode /var/lib/zonevisor "750 root:root"
dpkg-query -W -f='${Conffiles}\n' zonevisor | awk '{ print $1 }' |
    grep -qx /etc/zonevisor/zonevisor.conf ||
    fail "/etc/zonevisor/zonevisor.conf is not a conffile"
grep -qx 'control_group = zonevisor' /etc/zonevisor/zonevisor.conf ||
    fail "zonevisor.conf does not set control_group = zonevisor"

# 6. The unit: valid, with the installed paths, enabled.
grep -qx 'ExecStart=/usr/sbin/zonevisord -d -f /etc/zonevisor/zonevisor.conf' "$unit" ||
    fail "$unit: ExecStart is not /usr/sbin/zonevisord -d -f /etc/zonevisor/zonevisor.conf"
if command -v systemd-analyze >/dev/null 2>&1; then
	# The man pages it names are not written yet.
	out=$(systemd-analyze verify "$unit" 2>&1 | grep -v "Command 'man " || true)
	[ -z "$out" ] || fail "systemd-analyze verify $unit: $out"
	say "systemd-analyze verify: clean"
fi
[ -L /etc/systemd/system/multi-user.target.wants/zonevisord.service ] ||
    fail "zonevisord.service is not enabled"
say "zonevisord.service enabled"

# 7. zonevisord takes the packaged configuration.
out=$(/usr/sbin/zonevisord -n -f /etc/zonevisor/zonevisor.conf) ||
    fail "zonevisord -n -f /etc/zonevisor/zonevisor.conf: exit $?"
[ "$out" = "/etc/zonevisor/zonevisor.conf: configuration OK, 0 zones" ] ||
    fail "zonevisord -n says: $out"
out=$(/usr/sbin/zonevisord -n) || fail "zonevisord -n (the built-in path): exit $?"
say "zonevisord -n: $out"
out=$(/usr/sbin/zonevisord -V)
case $out in "zonevisord $version "*) ;; *) fail "zonevisord -V: $out" ;; esac

# 8. It runs: started by systemd where systemd runs (postinst started it),
# else here as the unit would start it.
if [ -d /run/systemd/system ]; then
	i=0
	until [ "$(systemctl is-active zonevisord.service)" = active ]; do
		i=$((i + 1))
		[ $i -le 30 ] || fail "zonevisord.service is not active: $(systemctl status zonevisord.service 2>&1)"
		sleep 1
	done
	say "zonevisord.service active"
else
	rmode=$(sed -n 's/^RuntimeDirectoryMode=//p' "$unit")
	mkdir -m "$rmode" /run/zonevisor
	made_rundir=yes
	pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
	start=$(sed -n 's/^ExecStart=//p' "$unit")
	$pre >/dev/null || fail "ExecStartPre: $pre"
	$start 2>"$T/zonevisord.log" &
	daemon=$!
	i=0
	until [ -S /run/zonevisor/control.sock ]; do
		i=$((i + 1))
		kill -0 "$daemon" 2>/dev/null || { cat "$T/zonevisord.log" >&2; fail "zonevisord exited"; }
		[ $i -le 100 ] || { cat "$T/zonevisord.log" >&2; fail "no control socket after 10 s"; }
		sleep 0.1
	done
	say "zonevisord running as the unit starts it (no systemd here), pid $daemon"
fi
mode /run/zonevisor "755 root:root"
mode /run/zonevisor/control.sock "660 root:zonevisor"
out=$(/usr/bin/zonectl version) || fail "zonectl version: exit $?"
case $out in
"zonectl $version, zonevisord $version (protocol "*")") ;;
*) fail "zonectl version: $out" ;;
esac
say "zonectl version: $out"
/usr/bin/zonectl status >/dev/null || fail "zonectl status: exit $?"
# A member of the group zonevisor (a supplementary group, as for a user
# added with adduser USER zonevisor) may; nobody else may.
out=$(setpriv --reuid=65534 --regid=65534 --groups="$zgid" /usr/bin/zonectl version) ||
    fail "zonectl version as a member of zonevisor: exit $?"
say "as a member of zonevisor: $out"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/zonectl version \
    >/dev/null 2>"$T/denied" || rc=$?
[ $rc -eq 5 ] || fail "zonectl version as a non-member: exit $rc, not 5 ($(cat "$T/denied"))"
say "as a non-member: exit 5, $(cat "$T/denied")"
if [ -n "$daemon" ]; then
	kill -TERM "$daemon"
	rc=0
	wait "$daemon" || rc=$?
	daemon=""
	[ $rc -eq 0 ] || { cat "$T/zonevisord.log" >&2; fail "zonevisord exited $rc on SIGTERM"; }
	say "zonevisord: SIGTERM, exit 0"
fi

# 9. Purge.
apt purge -y zonevisor >"$T/purge.out" 2>&1 || { cat "$T/purge.out" >&2; fail "purge"; }
status=$(dpkg-query -W -f='${db:Status-Status}' zonevisor 2>/dev/null || true)
case $status in "" | not-installed) ;; *) fail "after the purge, zonevisor is $status" ;; esac
for p in /usr/sbin/zonevisord /usr/bin/zonectl "$unit" /etc/zonevisor \
    /var/lib/zonevisor /etc/systemd/system/multi-user.target.wants/zonevisord.service \
    /var/lib/systemd/deb-systemd-helper-enabled/zonevisord.service.dsh-also; do
	if [ -e "$p" ] || [ -L "$p" ]; then
		fail "after the purge, $p is still there"
	fi
done
getent passwd zonevisor >/dev/null || fail "the purge removed the user zonevisor"
getent group zonevisor >/dev/null || fail "the purge removed the group zonevisor"
say "purged: programs, unit, /etc/zonevisor, /var/lib/zonevisor gone; user and group kept"
say "all checks passed in $(elapsed)"
