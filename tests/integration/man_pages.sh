# man_pages.sh: the manual pages render without a warning and do not drift
# from the code.  Each page in man/ goes through mandoc -T lint (style
# messages included, but for "referenced manual not found" and mandoc.db
# notices, which depend on what this machine has installed) and through
# groff -mandoc -ww -z; both must be silent.  Then what the pages document
# is taken from the sources with grep and sed and checked both ways:
#   - zonevisor.conf.5: every section and key of config.c's key tables,
#     under its own section, env.NAME and the file:, env: and exec: secret
#     sources; and no key in a section's list that config.c does not know;
#   - zonectl.8: every command zonectl.c's main() dispatches, every lease
#     subcommand, every option (global, of the operations, events, reset,
#     reload and lease), every ZC_EXIT_* code; no command it does not have;
#   - zonevisord.8: every letter of the getopt string and no other option,
#     every signal the parent watches, every ZVD_EXIT_* code, and every
#     ZONEVISOR_* variable the sources put in an environment.
# It starts no daemon.  scripts/setup installs mandoc; with neither mandoc
# nor groff the rendering half is skipped, never the drift checks.
set -u

SRC=${ZV_SRCDIR:?run through make check}
MAN=$SRC/man
CONF5=$MAN/zonevisor.conf.5
CTL8=$MAN/zonectl.8
ZVD8=$MAN/zonevisord.8
errors=0

bad() {
	echo "FAIL: man_pages: $*" >&2
	errors=$((errors + 1))
}

# The lines of a page from ".Ss|.Sh <title>" up to the next .Ss or .Sh.
section_of() {	# page macro title
	M=$2 TITLE=$3 awk '
		$1 == ENVIRON["M"] &&
		    substr($0, length(ENVIRON["M"]) + 2) == ENVIRON["TITLE"] {
			on = 1
			next
		}
		on && ($1 == ".Ss" || $1 == ".Sh") { exit }
		on { print }' "$1"
}

# 1. Rendering.
linted=0
for page in "$CONF5" "$CTL8" "$ZVD8"; do
	[ -f "$page" ] || { bad "missing $page"; continue; }
	if command -v mandoc >/dev/null 2>&1; then
		out=$(mandoc -T lint -W style "$page" 2>&1 |
		    grep -v 'referenced manual not found' | grep -v 'mandoc\.db')
		[ -z "$out" ] || bad "mandoc -T lint $(basename "$page"):
$out"
		linted=1
	fi
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -mandoc -ww -z "$page" 2>&1)
		[ -z "$out" ] || bad "groff -ww $(basename "$page"):
$out"
		linted=1
	fi
done
[ $linted -eq 1 ] || echo "man_pages: neither mandoc nor groff: rendering not checked" >&2

# 2. zonevisor.conf.5 against config.c's key tables.
keys=$(sed -n '/^static const struct cfg_key \(main\|zone\)_keys\[\] = {/,/^};/p' \
    "$SRC/src/config.c" |
    sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", "\([a-z_]*\)", set_[a-z_]*, [01] },.*/\1 \2/p')
[ "$(echo "$keys" | wc -l)" -ge 30 ] ||
    bad "read only $(echo "$keys" | wc -l) keys from config.c's tables"
for section in $(echo "$keys" | cut -d' ' -f1 | sort -u); do
	text=$(section_of "$CONF5" .Ss "[$section]\\&")
	if [ -z "$text" ]; then
		bad "zonevisor.conf.5 has no .Ss [$section]"
		continue
	fi
	for key in $(echo "$keys" | awk -v s="$section" '$1 == s { print $2 }'); do
		echo "$text" | grep -q "^\.It Cm $key " ||
		    bad "zonevisor.conf.5: [$section] $key is not documented"
	done
	# No key documented that config.c does not take.
	for key in $(echo "$text" | sed -n 's/^\.It Cm \([a-z_]*\) .*/\1/p'); do
		echo "$keys" | grep -qx "$section $key" ||
		    bad "zonevisor.conf.5: [$section] $key is not a key of config.c"
	done
done
grep -q '"env\."' "$SRC/src/config.c" && {
	section_of "$CONF5" .Ss '[gateway]\&' | grep -q '^\.It Cm env\.\\& Ns Ar NAME' ||
	    bad "zonevisor.conf.5: [gateway] env.NAME is not documented"
}
for source in file env exec; do
	grep -q "strncmp(v, \"$source:\"" "$SRC/src/config.c" || continue
	section_of "$CONF5" .Ss '[secrets]\&' |
	    grep -q "^\.It Ar NAME Cm = Cm $source:" ||
	    bad "zonevisor.conf.5: the $source: secret source is not documented"
done

# 3. zonectl.8 against zonectl.c.
commands=$(sed -n '/^main(int argc/,/^}/p' "$SRC/src/zonectl.c" |
    grep -o 'strcmp(cmd, "[a-z-]*")' | sed 's/.*"\(.*\)".*/\1/')
[ "$(echo "$commands" | wc -l)" -ge 10 ] ||
    bad "read only $(echo "$commands" | wc -l) commands from zonectl.c"
cmdtext=$(section_of "$CTL8" .Sh COMMANDS)
# The command of each item: ".It Ic cmd ..." or ".Ic cmd" after ".It Xo".
documented=$(echo "$cmdtext" | awk '
	$1 == ".It" && $2 == "Ic" { print $3 }
	xo && $1 == ".Ic" { print $2 }
	{ xo = ($1 == ".It" && $2 == "Xo") }' | sort -u)
for c in $commands; do
	echo "$documented" | grep -qx "$c" ||
	    bad "zonectl.8: command $c is not documented"
done
for c in $documented; do
	echo "$commands" | grep -qx "$c" ||
	    bad "zonectl.8: $c is documented, but zonectl.c has no such command"
done
for op in $(sed -n 's/^[[:space:]]*X(LOP_[A-Z]*, "\([a-z]*\)").*/\1/p' "$SRC/src/proto.h"); do
	echo "$cmdtext" | grep -Eq "^(\.It )?\.?Ic lease $op( |\$)" ||
	    bad "zonectl.8: lease $op is not documented"
done
# Long options, from every option table of zonectl.c, and short ones.
for opt in $(grep -o '{ "[a-z-]*", \(no\|required\)_argument' "$SRC/src/zonectl.c" |
    sed 's/{ "\([a-z-]*\)".*/\1/' | sort -u) \
    $(grep -o 'strcmp(argv\[i\], "--[a-z-]*")' "$SRC/src/zonectl.c" |
    sed 's/.*"--\([a-z-]*\)".*/\1/' | sort -u); do
	grep -q "Fl \\\\-$opt\\b" "$CTL8" ||
	    bad "zonectl.8: option --$opt is not documented"
done
for letter in $( { grep -o 'getopt_long(argc, argv, "+[a-z:]*"' "$SRC/src/zonectl.c";
    grep -o 'getopt(argc, argv, "[a-z:]*"' "$SRC/src/zonectl.c";
    grep -o 'strcmp(argv\[i\], "-[a-z]")' "$SRC/src/zonectl.c"; } |
    sed 's/.*"\(.*\)".*/\1/' | tr -d '+:-' | fold -w1 | sort -u); do
	grep -q "Fl $letter\\b" "$CTL8" ||
	    bad "zonectl.8: option -$letter is not documented"
done
ctl_exit=$(section_of "$CTL8" .Sh "EXIT STATUS")
for code in $(sed -n 's/^#define ZC_EXIT_[A-Z_]*[[:space:]]*\([0-9]*\).*/\1/p' "$SRC/src/zonevisor.h"); do
	echo "$ctl_exit" | grep -qx "\.It $code" ||
	    bad "zonectl.8: exit code $code is not documented"
done
grep -q '"ZONEVISOR_SOCKET"' "$SRC/src/zonectl.c" &&
    ! grep -q '^\.It Ev ZONEVISOR_SOCKET' "$CTL8" &&
    bad "zonectl.8: ZONEVISOR_SOCKET is not documented"

# 4. zonevisord.8 against zonevisord.c, parent.c and the environments.
letters=$(grep -o 'getopt(argc, argv, "[a-zA-Z:]*")' "$SRC/src/zonevisord.c" |
    sed 's/.*"\(.*\)".*/\1/' | tr -d ':' | fold -w1 | sort -u)
[ -n "$letters" ] || bad "read no options from zonevisord.c"
opttext=$(section_of "$ZVD8" .Sh OPTIONS)
for letter in $letters; do
	echo "$opttext" | grep -q "^\.It Fl $letter\\b" ||
	    bad "zonevisord.8: option -$letter is not documented"
	grep -q "^\.Op Fl [a-zA-Z]*$letter" "$ZVD8" ||
	    grep -q "^\.Op Fl $letter " "$ZVD8" ||
	    bad "zonevisord.8: option -$letter is not in the SYNOPSIS"
done
for letter in $(echo "$opttext" | sed -n 's/^\.It Fl \([a-zA-Z]\).*/\1/p'); do
	echo "$letters" | grep -qx "$letter" ||
	    bad "zonevisord.8: -$letter is documented, but zonevisord.c has no such option"
done
sigtext=$(section_of "$ZVD8" .Sh SIGNALS)
for sig in $(sed -n 's/.*static const int sigs\[\] = { \(.*\) };.*/\1/p' "$SRC/src/parent.c" |
    tr -d ',' ); do
	echo "$sigtext" | grep -q "Dv $sig\\b\\|, $sig\\b" ||
	    bad "zonevisord.8: signal $sig is not documented"
done
zvd_exit=$(section_of "$ZVD8" .Sh "EXIT STATUS")
for code in $(sed -n 's/^#define ZVD_EXIT_[A-Z_]*[[:space:]]*\([0-9]*\).*/\1/p' "$SRC/src/zonevisor.h"); do
	echo "$zvd_exit" | grep -qx "\.It $code" ||
	    bad "zonevisord.8: exit code $code is not documented"
done
envtext=$(section_of "$ZVD8" .Sh ENVIRONMENT)
for var in $(grep -ho 'ZONEVISOR_[A-Z_]*=' "$SRC"/src/*.c | tr -d '=' | sort -u); do
	echo "$envtext" | grep -q "Ev $var\\b" ||
	    bad "zonevisord.8: environment variable $var is not documented"
done

if [ $errors -gt 0 ]; then
	echo "man_pages: $errors problems" >&2
	exit 1
fi
echo "man_pages: ok"
exit 0
