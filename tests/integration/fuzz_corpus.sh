# fuzz_corpus.sh: every input kept in fuzz/corpus/ (the seeds, and the input
# of each crash fuzzing once found, kept once fixed) still goes through its
# target without a crash, a sanitizer report or an abort.  The targets are
# built with fuzz/replay.c in place of libFuzzer, so this runs with gcc in
# every make check, and under ASan and UBSan in scripts/test --sanitize.
set -u
: "${ZV_BUILDDIR:?run through make check}" "${ZV_SRCDIR:?}"
T=$(mktemp -d /tmp/zv-fuzz-replay.XXXXXX)
trap 'rm -rf "$T"' EXIT
export TMPDIR=$T	# where the targets write inputs that readers take by path
for t in control_request link_message config records runtime argv parse; do
	out=$("$ZV_BUILDDIR/fuzz/replay_$t" "$ZV_SRCDIR/fuzz/corpus/$t" 2>&1) ||
	    { echo "FAIL: fuzz_corpus: target $t: $out" >&2; exit 1; }
	echo "$t: $out"
done
exit 0
