/*
 * fuzz_config.c: the configuration parser.  The input is split at its
 * first NUL byte: before it, zonevisor.conf; after it, one zone file.
 * Whatever it holds, config_load either returns a configuration or lists
 * errors, never both, never neither.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdint.h>

#include "fuzz.h"
#include "zonevisor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t main_len = nul != NULL ? (size_t)(nul - data) : size;
	struct config_errors errs;
	struct config *cfg;
	char zones[600], path[640];

	snprintf(zones, sizeof zones, "%s/zones.d", fuzz_dir());
	mkdir(zones, 0700);
	snprintf(path, sizeof path, "%s/alpha.conf", zones);
	if (nul != NULL) {
		const char *z = fuzz_file("zones.d/alpha.conf", nul + 1,
		    size - main_len - 1);
		(void)z;
	} else
		unlink(path);
	memset(&errs, 0, sizeof errs);
	cfg = config_load_zones(fuzz_file("zonevisor.conf", data, main_len),
	    zones, &errs);
	if ((cfg == NULL) == (errs.n == 0))
		abort();
	config_free(cfg);
	config_errors_free(&errs);
	return 0;
}
