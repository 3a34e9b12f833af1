/*
 * opid.c: operation ids, "<zone>-<operation>-<uuid>" (DESIGN §3), made with
 * libuuid.  Every record and answer about one operation carries its id, so
 * an operator can follow a restart through its stop and start phases.
 */
#include "config.h"

#include <stdio.h>

#include <uuid.h>

#include "zonevisor.h"

/* Write a new operation id for operation op of zone into buf. */
void
opid_new(char *buf, size_t len, const char *zone, int op)
{
	uuid_t u;
	char s[37];

	uuid_generate_random(u);
	uuid_unparse_lower(u, s);
	snprintf(buf, len, "%s-%s-%s", zone, names_operation(op), s);
}
