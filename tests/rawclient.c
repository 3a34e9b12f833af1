/*
 * rawclient.c: a test helper that speaks raw bytes to the control socket:
 * it sends the bytes given in hex (-x) exactly as they are, then prints each
 * answer frame as one JSON line, and "closed" if the daemon closes the
 * connection, or "timeout" if nothing more comes within -t milliseconds.
 * With it the tests send malformed, truncated and oversized frames.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zonevisor.h"

static void
usage(void)
{
	fprintf(stderr, "usage: rawclient -s socket -x hex [-n frames] [-t ms] "
	    "[-z pad-bytes]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *hex = NULL, *cause;
	struct client_conn cc;
	unsigned char *bytes;
	size_t len = 0, i, pad = 0;
	long frames = 1, timeout = 5000;
	int ch;

	while ((ch = getopt(argc, argv, "s:x:n:t:z:")) != -1) {
		switch (ch) {
		case 's': path = optarg; break;
		case 'x': hex = optarg; break;
		case 'n': frames = strtol(optarg, NULL, 10); break;
		case 't': timeout = strtol(optarg, NULL, 10); break;
		case 'z': pad = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (path == NULL || hex == NULL || strlen(hex) % 2 != 0)
		usage();
	/* -z appends that many zero bytes, for frames too large to type. */
	bytes = calloc(strlen(hex) / 2 + pad + 1, 1);
	for (i = 0; hex[2 * i] != '\0'; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			usage();
		bytes[len++] = (unsigned char)b;
	}
	len += pad;
	if (client_connect(&cc, path) != 0) {
		printf("connect failed: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < len; ) {
		ssize_t n = write(cc.fd, bytes + i, len - i);

		if (n <= 0) {
			printf("write failed: %s\n", strerror(errno));
			break;
		}
		i += (size_t)n;
	}
	while (frames-- > 0) {
		struct mdoc *doc = client_recv(&cc, clock_mono_ms() + timeout,
		    &cause);

		if (doc == NULL) {
			printf("%s\n", strcmp(cause, "connection closed") == 0 ?
			    "closed" : cause);
			break;
		}
		json_print(stdout, mdoc_root(doc));
		putchar('\n');
		mdoc_free(doc);
	}
	client_close(&cc);
	free(bytes);
	return 0;
}
