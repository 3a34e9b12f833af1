/*
 * fuzz_control_request.c: a control-socket frame as zonevisord decodes it:
 * the structural check that runs before msgpack-c sees the bytes, the
 * parse, then every field a request is read by (v, id, cmd, zone, args and
 * the args of every command), with every getter on every value.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz.h"
#include "zonevisor.h"

/* Every getter on v and, depth first, on what it holds. */
static void
walk(const struct mval *v, int depth)
{
	char buf[64];
	int64_t i;
	double d;
	size_t n, j, len;
	int b;

	if (v == NULL || depth > MSG_MAX_DEPTH + 1)
		return;
	(void)mval_int(v, &i);
	(void)mval_bool(v, &b);
	(void)mval_double(v, &d);
	(void)mval_str(v, &len);
	(void)mval_strcpy(v, buf, sizeof buf);
	free(mval_strdup(v));
	n = mval_len(v);
	for (j = 0; j < n && j < 64; j++) {
		walk(mval_at(v, j), depth + 1);
		walk(mval_key(v, j), depth + 1);
		walk(mval_val(v, j), depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const arg_keys[] = { "op", "lease", "ttl_ms",
	    "owner", "force", "dry_run", "n", "follow", "timeout_ms", "wait",
	    "all" };
	const struct mval *root, *args;
	const char *cause, *missing = NULL;
	struct mdoc *doc;
	char buf[256];
	int64_t i;
	size_t k;

	fuzz_dir();
	if (msg_check(data, size, MSG_MAX_DEPTH, &cause) != 0)
		return 0;
	if ((doc = mdoc_parse(data, size, &cause)) == NULL)
		return 0;
	root = mdoc_root(doc);
	walk(root, 0);
	(void)mval_get_int(root, "v", 0, INT32_MAX, &i, &missing);
	(void)mval_get_int(root, "id", INT64_MIN, INT64_MAX, &i, &missing);
	if (mval_get_str(root, "cmd", buf, sizeof buf, &missing) == 0)
		(void)names_ctl_command_parse(buf);
	(void)mval_get_str(root, "zone", buf, sizeof buf, &missing);
	if ((args = mval_get(root, "args")) != NULL)
		for (k = 0; k < sizeof arg_keys / sizeof arg_keys[0]; k++) {
			const struct mval *a = mval_get(args, arg_keys[k]);

			walk(a, 0);
			if (a != NULL && mval_strcpy(a, buf, sizeof buf) == 0)
				(void)names_lease_op_parse(buf);
		}
	mdoc_free(doc);
	return 0;
}
