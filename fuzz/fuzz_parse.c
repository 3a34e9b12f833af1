/*
 * fuzz_parse.c: the value parsers of configuration and zonectl: duration,
 * size, signal, boolean, bounded integer and listen address.  A value is
 * either accepted within its bounds or refused; nothing in between.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>

#include "fuzz.h"
#include "zonevisor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *cause = NULL;
	unsigned char addr[16];
	char host[48];
	int64_t v;
	int b, sig, port, family;

	fuzz_dir();
	memcpy(s, data, size);
	s[size] = '\0';
	if (parse_duration(s, &v, &cause) == 0 && v < 0)
		abort();
	if (parse_size(s, &v, &cause) == 0 && v < 0)
		abort();
	if (parse_signal(s, &sig, &cause) == 0 && (sig <= 0 || sig >= NSIG))
		abort();
	if (parse_bool(s, &b) == 0 && b != 0 && b != 1)
		abort();
	if (parse_int(s, -5, 1000, &v) == 0 && (v < -5 || v > 1000))
		abort();
	if (parse_listen(s, host, sizeof host, &port, &family, &cause) == 0 &&
	    (port < 1 || port > 65535 || (family != AF_INET &&
	    family != AF_INET6) || inet_pton(family, host, addr) != 1))
		abort();
	free(s);
	return 0;
}
