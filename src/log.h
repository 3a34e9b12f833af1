/*
 * log.h: the relayd logging API used by every zonevisor process.  Messages
 * go to stderr in the foreground and to syslog otherwise; each process
 * names itself with log_procinit() so lines say which worker wrote them.
 */
#ifndef ZV_LOG_H
#define ZV_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(int to_stderr, int level);
void log_procinit(const char *name);
void log_setlevel(int level);
int log_getlevel(void);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
