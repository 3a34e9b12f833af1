# soak.sh: the chaos soak (scripts/soak) as make check runs it: 60 s of
# faults against 20 zones, with the checks described in scripts/soak.  It
# prints its seed; a failure is replayed with scripts/soak --seed S.  Longer
# runs are by hand (scripts/soak --seconds 600), or ZV_SOAK_SECONDS here.
set -u
exec python3 "${ZV_SRCDIR:?run through make check}/scripts/soak" \
    --seconds "${ZV_SOAK_SECONDS:-60}" --build "${ZV_BUILDDIR:?}"
