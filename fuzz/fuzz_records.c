/*
 * fuzz_records.c: the lifecycle log reader.  Any bytes as lifecycle.log:
 * records_read_all hands out only frames whose length and crc hold and
 * reports the rest as problems, never reading past the file.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz.h"
#include "zonevisor.h"

static void
on_record(const void *data, size_t len, const struct mval *m, void *arg)
{
	const char *missing = NULL;
	char kind[64];

	if (mval_get_str(m, "kind", kind, sizeof kind, &missing) == 0)
		(void)names_record_parse(kind);
	(*(size_t *)arg) += len;
}

static void
on_problem(const char *what, void *arg)
{
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct records_cbs cbs = { on_record, on_problem };
	size_t total = 0;

	(void)records_read_all(fuzz_file("lifecycle.log", data, size), 0,
	    &cbs, &total);
	if (total > size)
		abort();
	return 0;
}
