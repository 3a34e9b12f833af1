/*
 * zonevisord.c: main() of the supervisor daemon.  It parses the command
 * line, loads and checks the configuration (refusing to start on any error,
 * each printed on one line), optionally daemonizes, and hands over to the
 * parent process of parent.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "zonevisor.h"

static void usage(FILE *, int) __attribute__((noreturn));

/* Print the synopsis and exit with code. */
static void
usage(FILE *f, int code)
{
	fprintf(f,
	    "usage: zonevisord [-dnvV] [-f file]\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -f file  configuration file (default %s)\n"
	    "  -n       check the configuration and exit\n"
	    "  -v       log debugging messages\n"
	    "  -V       print the version and exit\n", DEFAULT_CONFIG);
	exit(code);
}

int
main(int argc, char **argv)
{
	const char *file = DEFAULT_CONFIG;
	struct config_errors errs;
	struct config *cfg;
	int ch, foreground = 0, check = 0, verbose = 0;
	size_t i;

	while ((ch = getopt(argc, argv, "df:nvVh")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("zonevisord %s (protocol %d)\n", PACKAGE_VERSION,
			    PROTO_VERSION);
			return ZVD_EXIT_OK;
		case 'h':
			usage(stdout, ZVD_EXIT_OK);
		default:
			usage(stderr, ZVD_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, ZVD_EXIT_USAGE);

	log_init(1, LOG_LEVEL_INFO);
	if ((cfg = config_load(file, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "zonevisord: %s\n", errs.lines[i]);
		fprintf(stderr, "zonevisord: %s: %zu configuration error%s\n",
		    file, errs.n, errs.n == 1 ? "" : "s");
		config_errors_free(&errs);
		return ZVD_EXIT_CONFIG;
	}
	if (check) {
		printf("%s: configuration OK, %zu zone%s\n", file, cfg->nzones,
		    cfg->nzones == 1 ? "" : "s");
		config_free(cfg);
		return ZVD_EXIT_OK;
	}
	if (verbose)
		cfg->log_level = LOG_LEVEL_DEBUG;
	if (!foreground) {
		if (control_in_use(cfg->control_socket)) {
			fprintf(stderr, "zonevisord: another zonevisord is "
			    "running on %s\n", cfg->control_socket);
			config_free(cfg);
			return ZVD_EXIT_RUNNING;
		}
		/* log_target = stderr keeps stderr where it was redirected. */
		if (daemon(0, cfg->log_to_syslog ? 0 : 1) == -1) {
			fprintf(stderr, "zonevisord: daemon: %s\n",
			    strerror(errno));
			config_free(cfg);
			return ZVD_EXIT_FAILURE;
		}
		log_init(!cfg->log_to_syslog, cfg->log_level);
	} else
		log_init(1, cfg->log_level);
	log_procinit("zonevisord");
	spawn_raise_nofile();
	ch = parent_main(cfg);
	config_free(cfg);
	return ch;
}
