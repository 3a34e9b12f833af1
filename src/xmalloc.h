/*
 * xmalloc.h: allocation wrappers that abort on exhaustion, so callers never
 * carry out-of-memory paths for small bookkeeping allocations.
 */
#ifndef ZV_XMALLOC_H
#define ZV_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

#endif
