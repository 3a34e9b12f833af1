/*
 * argv.c: split a command line into an argv array the way a POSIX shell
 * splits words, without running a shell: blanks separate words, '...' is
 * literal, "..." is literal but for \" \\ \$ \` escapes, and a backslash
 * outside quotes takes the next character literally.  Since nothing would
 * expand them, unquoted shell operators, $ and ` are refused with a message
 * instead of being passed on as surprising literal arguments.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "zonevisor.h"

#define ARGV_MAX 4096

struct word {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

static void word_add(struct word *, char);

/* Append one character to the word being built. */
static void
word_add(struct word *w, char c)
{
	if (w->len + 1 >= w->cap) {
		w->cap = w->cap == 0 ? 64 : w->cap * 2;
		w->buf = xreallocarray(w->buf, w->cap, 1);
	}
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/*
 * Split s into a NULL-terminated argv; *argc gets the word count.  Returns
 * NULL with *cause set on a syntax error or an empty command.
 */
char **
argv_split(const char *s, int *argc, const char **cause)
{
	char **argv = NULL;
	struct word w = { NULL, 0, 0 };
	int n = 0, inword = 0;
	char quote = 0;

	for (;; s++) {
		char c = *s;

		if (quote == '\'') {
			if (c == '\0')
				goto unterminated;
			if (c == '\'')
				quote = 0;
			else
				word_add(&w, c);
			continue;
		}
		if (quote == '"') {
			if (c == '\0')
				goto unterminated;
			if (c == '"')
				quote = 0;
			else if (c == '\\' && s[1] != '\0' &&
			    strchr("\"\\$`", s[1]) != NULL)
				word_add(&w, *++s);
			else if (c == '$' || c == '`')
				goto expansion;
			else
				word_add(&w, c);
			continue;
		}
		if (c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (inword) {
				if (n + 1 >= ARGV_MAX) {
					*cause = "too many arguments";
					goto fail;
				}
				argv = xreallocarray(argv, n + 2, sizeof *argv);
				argv[n++] = w.buf != NULL ? w.buf : xstrdup("");
				argv[n] = NULL;
				w.buf = NULL;
				w.len = w.cap = 0;
				inword = 0;
			}
			if (c == '\0')
				break;
			continue;
		}
		if (c == '#' && !inword) {
			*cause = "unquoted '#' (no shell runs, so it is no comment); "
			    "quote it to pass it on";
			goto fail;
		}
		inword = 1;
		switch (c) {
		case '\'':
		case '"':
			quote = c;
			break;
		case '\\':
			if (s[1] == '\0') {
				*cause = "trailing backslash";
				goto fail;
			}
			word_add(&w, *++s);
			break;
		case '$':
		case '`':
			goto expansion;
		case '|': case '&': case ';': case '<': case '>': case '(': case ')':
			*cause = "unquoted shell operator (no shell runs); "
			    "quote it to pass it on";
			goto fail;
		default:
			word_add(&w, c);
			break;
		}
	}
	if (n == 0) {
		*cause = "empty command";
		goto fail;
	}
	*argc = n;
	return argv;

unterminated:
	*cause = quote == '\'' ? "unterminated single quote" :
	    "unterminated double quote";
	goto fail;
expansion:
	*cause = "$ and ` would need a shell to expand (none runs); "
	    "use single quotes or \\$ to pass them on";
fail:
	free(w.buf);
	argv_free(argv);
	return NULL;
}

/* Free an argv from argv_split(). */
void
argv_free(char **argv)
{
	char **p;

	if (argv == NULL)
		return;
	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}
