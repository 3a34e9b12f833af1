/*
 * parse.c: the value syntaxes of zonevisor.conf and zonectl arguments:
 * durations ("250ms", "10s", "1h30m"), sizes ("64K", "4M"), signals
 * ("SIGTERM", "TERM", "15"), booleans, bounded integers and TCP listen
 * addresses ("127.0.0.1:9464", "[::1]:9464").  Every parser rejects
 * trailing garbage and overflow and says why in *cause.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "zonevisor.h"

static int parse_digits(const char **, uint64_t *);

/* Read a run of decimal digits into *v; -1 on overflow or no digit. */
static int
parse_digits(const char **sp, uint64_t *v)
{
	const char *s = *sp;

	if (!isdigit((unsigned char)*s))
		return -1;
	*v = 0;
	while (isdigit((unsigned char)*s)) {
		if (*v > (UINT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*sp = s;
	return 0;
}

/*
 * Parse a duration into milliseconds: one or more <number><unit> groups,
 * units ms, s, m, h and d, optionally separated by spaces; "0" alone is
 * accepted without a unit.
 */
int
parse_duration(const char *s, int64_t *ms, const char **cause)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const int64_t max = (int64_t)1 << 53;
	uint64_t total = 0, n;
	size_t i;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0') {
		*cause = "empty duration";
		return -1;
	}
	if (*s == '-') {
		*cause = "durations cannot be negative";
		return -1;
	}
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s != '\0') {
		size_t len = 0;

		if (parse_digits(&s, &n) != 0) {
			*cause = "expected a number followed by ms, s, m, h or d";
			return -1;
		}
		while (isalpha((unsigned char)s[len]))
			len++;
		if (len == 0) {
			*cause = "missing unit (write e.g. 10s or 250ms)";
			return -1;
		}
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].unit) == len &&
			    strncmp(s, units[i].unit, len) == 0)
				break;
		if (i == sizeof units / sizeof units[0]) {
			*cause = "unknown unit (use ms, s, m, h or d)";
			return -1;
		}
		if (n > (uint64_t)max / units[i].ms ||
		    total + n * units[i].ms > (uint64_t)max) {
			*cause = "duration too large";
			return -1;
		}
		total += n * units[i].ms;
		s += len;
		while (isspace((unsigned char)*s))
			s++;
	}
	*ms = (int64_t)total;
	return 0;
}

/* Parse a size in bytes: a number with an optional K, M, G or T (1024-based). */
int
parse_size(const char *s, int64_t *bytes, const char **cause)
{
	uint64_t n, mult = 1;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-') {
		*cause = "sizes cannot be negative";
		return -1;
	}
	if (parse_digits(&s, &n) != 0) {
		*cause = "expected a number with an optional K, M or G";
		return -1;
	}
	switch (toupper((unsigned char)*s)) {
	case '\0':
	case 'B':
		break;
	case 'K':
		mult = 1024;
		break;
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	case 'T':
		mult = (uint64_t)1024 * 1024 * 1024 * 1024;
		break;
	default:
		*cause = "unknown size suffix (use K, M, G or T)";
		return -1;
	}
	if (mult != 1) {
		s++;
		if (s[0] == 'i' && (s[1] == 'B' || s[1] == 'b'))
			s++;
	}
	if (*s == 'B' || *s == 'b')
		s++;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0') {
		*cause = "trailing characters after the size";
		return -1;
	}
	if (n > (uint64_t)INT64_MAX / mult) {
		*cause = "size too large";
		return -1;
	}
	*bytes = (int64_t)(n * mult);
	return 0;
}

/* Parse a signal by name ("SIGTERM", "term") or number ("15"). */
int
parse_signal(const char *s, int *sig, const char **cause)
{
	int64_t n;
	int i;

	if (parse_int(s, 1, NSIG - 1, &n) == 0) {
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 1; i < NSIG; i++) {
		const char *name = sigabbrev_np(i);

		if (name != NULL && strcasecmp(name, s) == 0) {
			*sig = i;
			return 0;
		}
	}
	*cause = "unknown signal (write e.g. SIGTERM or 15)";
	return -1;
}

/* Parse yes/no, true/false, on/off, 1/0; -1 for anything else. */
int
parse_bool(const char *s, int *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return -1;
}

/* Parse a decimal integer within [min, max]; -1 otherwise. */
int
parse_int(const char *s, int64_t min, int64_t max, int64_t *v)
{
	char *end;
	long long n;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*v = n;
	return 0;
}

/*
 * Parse the address of a TCP listener, HOST:PORT: HOST is an IPv4 literal,
 * an IPv6 literal in brackets ("[::1]:9464") or localhost (127.0.0.1), and
 * PORT a decimal from 1 to 65535.  Host names are refused: a listener
 * binds one address, known when the configuration is read.  On success
 * the address literal (brackets removed) goes to host, of hostlen bytes
 * (at least INET6_ADDRSTRLEN), its family to *family and the port to *port.
 */
int
parse_listen(const char *s, char *host, size_t hostlen, int *port,
    int *family, const char **cause)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char buf[INET6_ADDRSTRLEN + 1];
	const char *colon, *p;
	size_t n;
	int64_t v;

	*cause = "expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464";
	if (hostlen < INET6_ADDRSTRLEN || *s == '\0')
		return -1;
	if (*s == '[') {
		if ((p = strchr(s, ']')) == NULL || p[1] != ':')
			return -1;
		n = (size_t)(p - s - 1);
		colon = p + 1;
		if (n == 0 || n >= sizeof buf) {
			*cause = "not an IPv6 address in brackets";
			return -1;
		}
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1) {
			*cause = "not an IPv6 address in brackets";
			return -1;
		}
		*family = AF_INET6;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*cause = "an IPv6 address goes in brackets, e.g. "
			    "[::1]:9464";
			return -1;
		}
		n = (size_t)(colon - s);
		if (n == 0)
			return -1;
		if (n == strlen("localhost") &&
		    strncasecmp(s, "localhost", n) == 0)
			snprintf(buf, sizeof buf, "127.0.0.1");
		else if (n >= sizeof buf) {
			*cause = "not an IP address (host names are not "
			    "accepted; write 127.0.0.1, not a name)";
			return -1;
		} else {
			memcpy(buf, s, n);
			buf[n] = '\0';
		}
		if (inet_pton(AF_INET, buf, addr) != 1) {
			*cause = "not an IP address (host names are not "
			    "accepted; write 127.0.0.1, not a name)";
			return -1;
		}
		*family = AF_INET;
	}
	for (p = colon + 1; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			break;
	if (colon[1] == '\0' || *p != '\0' || p - colon - 1 > 5 ||
	    parse_int(colon + 1, 1, 65535, &v) != 0) {
		*cause = "the port must be a number from 1 to 65535";
		return -1;
	}
	snprintf(host, hostlen, "%s", buf);
	*port = (int)v;
	return 0;
}
