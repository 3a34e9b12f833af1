/*
 * fuzz_argv.c: splitting a command like a shell (argv.c).  A command
 * either splits into a NULL-terminated argv whose count is argc, or is
 * refused with a cause.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz.h"
#include "zonevisor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *cause = NULL;
	char **argv;
	int argc = -1, i;

	fuzz_dir();
	memcpy(s, data, size);
	s[size] = '\0';
	if ((argv = argv_split(s, &argc, &cause)) != NULL) {
		for (i = 0; i < argc; i++)
			if (argv[i] == NULL)
				abort();
		if (argv[argc] != NULL)
			abort();
		argv_free(argv);
	} else if (cause == NULL)
		abort();
	free(s);
	return 0;
}
