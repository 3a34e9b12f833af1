/*
 * fuzz_runtime.c: the runtime record and lease record readers, which a
 * later zonevisord trusts to find VMs it may signal.  Whatever they
 * accept names a positive pid (never 0 or -1, which would signal process
 * groups) and a lease id that names a file of its directory only.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz.h"
#include "zonevisor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct runtime_record rr;
	struct lease_record lr;
	const char *path = fuzz_file("record", data, size);
	char cause[256];

	if (runtime_read(path, &rr, cause, sizeof cause) == 0 &&
	    rr.vm_pid <= 0)
		abort();
	if (leasefile_read(path, &lr, cause, sizeof cause) == 0 &&
	    (lr.info.pid <= 0 || lr.info.id[0] == '\0' ||
	    lr.info.id[0] == '.' || strchr(lr.info.id, '/') != NULL))
		abort();
	return 0;
}
