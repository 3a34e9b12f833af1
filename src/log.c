/*
 * log.c: logging for zonevisord, its workers and zonectl.  In the foreground
 * (-d) lines go to stderr with a timestamp and the process name; otherwise to
 * syslog under the daemon facility.  errno is preserved across every call so
 * callers can log and then return -1 with errno intact.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_to_stderr = 1;
static int log_level = LOG_LEVEL_INFO;
static char log_name[64] = "zonevisord";

static void log_vwrite(int level, const char *errstr, const char *fmt, va_list ap);

/* Choose the destination and verbosity; call once at start-up. */
void
log_init(int to_stderr, int level)
{
	log_to_stderr = to_stderr;
	log_level = level;
	if (!to_stderr)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Name this process in every later line, e.g. "zv:alpha" in a worker. */
void
log_procinit(const char *name)
{
	snprintf(log_name, sizeof log_name, "%s", name);
	if (!log_to_stderr) {
		closelog();
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

/* Change the verbosity at run time. */
void
log_setlevel(int level)
{
	log_level = level;
}

/* Return the current verbosity. */
int
log_getlevel(void)
{
	return log_level;
}

/*
 * Write one line at the given level, appending errstr when it is set.  On
 * stderr the line is built in one buffer and written with one write(2): lines
 * of the parent and its workers never interleave, and no stdio buffer is
 * involved (for an unbuffered stream stdio would format through an 8 KiB
 * buffer on the stack, a worker's deepest frame).
 */
static void
log_vwrite(int level, const char *errstr, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	char line[2048];
	size_t off = 0;
	int saved = errno, n;

	if (level > log_level) {
		errno = saved;
		return;
	}
	if (log_to_stderr) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		off = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line + off, sizeof line - off, ".%03ldZ %s[%ld] %s: ",
		    ts.tv_nsec / 1000000, log_name, (long)getpid(), tag[level]);
		off += n > 0 ? (size_t)n : 0;
	}
	n = vsnprintf(line + off, sizeof line - off, fmt, ap);
	off = n < 0 ? off : off + (size_t)n < sizeof line ? off + (size_t)n :
	    sizeof line - 1;
	if (errstr != NULL) {
		n = snprintf(line + off, sizeof line - off, ": %s", errstr);
		off = n < 0 ? off : off + (size_t)n < sizeof line ? off +
		    (size_t)n : sizeof line - 1;
	}
	if (log_to_stderr) {
		if (off == sizeof line - 1)
			off--;	/* keep room for the newline */
		line[off++] = '\n';
		(void)write(STDERR_FILENO, line, off);
	} else
		syslog(prio[level], "%s", line);
	errno = saved;
}

/* Log a warning followed by strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, err, fmt, ap);
	va_end(ap);
}

/* Log a warning without errno. */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, NULL, fmt, ap);
	va_end(ap);
}

/* Log an informational line. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

/* Log a debugging line (only with log_level = debug). */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

/* Log an impossible start-up condition with strerror(errno) and exit. */
void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, err, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log an impossible start-up condition and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
