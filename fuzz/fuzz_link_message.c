/*
 * fuzz_link_message.c: a frame on a worker <-> parent link, unpacked as
 * the receiving end would: structural check, parse, then the unpacker its
 * type names, which must refuse anything but a well-formed message.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz.h"
#include "zonevisor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static union {
		struct msg_hello	hello;
		struct msg_zone_op	op;
		struct zone_status	st;
		struct msg_op_done	done;
		struct msg_escalate	esc;
		struct msg_health_result hr;
		struct msg_zone_health	zh;
		struct msg_zone_note	note;
		struct msg_zone_arm	arm;
		struct msg_lease_op	lop;
		struct msg_lease_done	ld;
		struct msg_leases	ml;
	} u;
	const char *cause;
	struct mdoc *doc;
	struct msgr r;
	int type;

	fuzz_dir();
	if (msg_check(data, size, MSG_MAX_DEPTH, &cause) != 0 ||
	    (doc = mdoc_parse(data, size, &cause)) == NULL)
		return 0;
	if (msg_open(doc, &r, &type) == 0) {
		switch (type) {
		case MSG_HELLO:
			(void)msg_unpack_hello(&r, &u.hello);
			break;
		case MSG_ZONE_START: case MSG_ZONE_STOP: case MSG_ZONE_RESTART:
		case MSG_ZONE_COLD_START: case MSG_ZONE_RESET:
		case MSG_HEALTH_PROBE: case MSG_ZONE_RETIRE:
		case MSG_ZONE_CREDENTIALS_REFRESH:
			(void)msg_unpack_zone_op(&r, &u.op);
			break;
		case MSG_ZONE_STATUS:
			(void)msg_unpack_zone_status(&r, &u.st);
			break;
		case MSG_OP_DONE:
			(void)msg_unpack_op_done(&r, &u.done);
			break;
		case MSG_ESCALATE:
			(void)msg_unpack_escalate(&r, &u.esc);
			break;
		case MSG_HEALTH_RESULT:
			(void)msg_unpack_health_result(&r, &u.hr);
			break;
		case MSG_ZONE_HEALTH:
			(void)msg_unpack_zone_health(&r, &u.zh);
			break;
		case MSG_ZONE_NOTE:
			(void)msg_unpack_zone_note(&r, &u.note);
			break;
		case MSG_ZONE_ARM:
			(void)msg_unpack_zone_arm(&r, &u.arm);
			break;
		case MSG_LEASE_OP:
			(void)msg_unpack_lease_op(&r, &u.lop);
			break;
		case MSG_LEASE_DONE:
			(void)msg_unpack_lease_done(&r, &u.ld);
			break;
		case MSG_LEASES:
			(void)msg_unpack_leases(&r, &u.ml);
			free(u.ml.leases);
			break;
		}
	}
	mdoc_free(doc);
	return 0;
}
