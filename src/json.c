/*
 * json.c: prints a decoded msgpack value as JSON, for zonectl --json.  The
 * daemon's answers are printed as they came, so every field the daemon adds
 * reaches scripts without zonectl knowing of it.  Strings are escaped per
 * RFC 8259; bytes that are not valid UTF-8 become U+FFFD; binary and
 * extension values, which the daemon never sends, print as null.  A value is
 * built in memory and written with one fwrite: the status of a thousand
 * zones is half a megabyte, and stdio's per-call cost would dominate.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "zonevisor.h"

/* JSON under construction; with out set, written out as it grows. */
struct jbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	FILE	*out;
};

#define JB_FLUSH	65536	/* bytes held before they go to out */

static void jb_grow(struct jbuf *, size_t);
static void jb_str(struct jbuf *, const char *, size_t);
static void jb_int(struct jbuf *, int64_t);
static void jb_scalar(struct jbuf *, const struct mitem *);
static void jb_value(struct jbuf *, const struct mval *);
static int jb_raw(struct jbuf *, const char *, size_t, size_t *, int);

#define JB_LIT(b, s)	jb_put((b), (s), sizeof (s) - 1)

/* Bytes that go into a JSON string as they are: printable ASCII but " and \. */
static const unsigned char jb_plain[256] = {
	[' '] = 1, ['!'] = 1, ['#' ... '['] = 1, [']' ... '~'] = 1
};

/*
 * Whether none of the eight bytes at s needs an escape or is beyond ASCII
 * (each at least 0x20, below 0x7f, neither '"' nor '\\'), with the usual
 * bit tricks: x - 0x01.. & ~x has a high bit set where a byte of x is zero,
 * x - 0x20.. & ~x where one is below 0x20, x + 0x01.. where one is 0x7f.
 * Exact once no byte has its high bit set, which is tested first.
 */
static inline int
jb_plain8(const unsigned char *s)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
	uint64_t w, q, b, bad;

	memcpy(&w, s, sizeof w);
	if ((w & highs) != 0)
		return 0;
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	bad = ((w - ones * 0x20) & ~w) | (w + ones) | ((q - ones) & ~q) |
	    ((b - ones) & ~b);
	return (bad & highs) == 0;
}

/* Grow the buffer for len more bytes (jb_reserve's slow path). */
static void
jb_grow(struct jbuf *b, size_t len)
{
	while (b->len + len > b->cap)
		b->cap = b->cap == 0 ? 4096 : b->cap * 2;
	b->p = xreallocarray(b->p, b->cap, 1);
}

/* Make room for len more bytes. */
static inline void
jb_reserve(struct jbuf *b, size_t len)
{
	if (b->len + len > b->cap)
		jb_grow(b, len);
}

/* Append len bytes (inline: most are a literal's one to five). */
static inline void
jb_put(struct jbuf *b, const void *data, size_t len)
{
	jb_reserve(b, len);
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/*
 * Append s as a JSON string.  Room for the worst case (every byte a \u00XX)
 * is made first, so the loop writes straight into the buffer.
 */
static void
jb_str(struct jbuf *b, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;
	char *o;

	jb_reserve(b, len * 6 + 2);
	o = b->p + b->len;
	*o++ = '"';
	while (i < len) {
		unsigned char c;

		size_t run = i;

		/* Eight bytes at a time while none needs an escape. */
		while (len - i >= 8 && jb_plain8(s + i))
			i += 8;
		while (i < len && jb_plain[s[i]])
			i++;
		memcpy(o, s + run, i - run);
		o += i - run;
		if (i == len)
			break;
		c = s[i];
		if (c >= 0x80 && (n = utf8_len(s + i, len - i)) > 0) {
			memcpy(o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			if (c >= 0x80) {	/* not UTF-8 */
				memcpy(o, "ufffd", 5);
				o += 5;
			} else {	/* control characters, DEL */
				memcpy(o, "u00", 3);
				o[3] = hex[c >> 4];
				o[4] = hex[c & 0xf];
				o += 5;
			}
			break;
		}
		i++;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

/* Append n in decimal (printf's machinery costs more than the rest). */
static void
jb_int(struct jbuf *b, int64_t n)
{
	char buf[24], *p = buf + sizeof buf;
	uint64_t u = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (n < 0)
		*--p = '-';
	jb_put(b, p, (size_t)(buf + sizeof buf - p));
}

/*
 * Append a value that is no container, as both printers below see it:
 * binary and extension values, which the daemon never sends, as null, and
 * an integer beyond int64 (mval_int refuses it) as null too.
 */
static void
jb_scalar(struct jbuf *b, const struct mitem *it)
{
	char num[32];

	switch (it->kind) {
	case MV_BOOL:
		if (it->b)
			JB_LIT(b, "true");
		else
			JB_LIT(b, "false");
		break;
	case MV_INT:
		if (it->big)
			JB_LIT(b, "null");
		else
			jb_int(b, it->i);
		break;
	case MV_FLOAT:
		if (isfinite(it->d))
			jb_put(b, num, (size_t)snprintf(num, sizeof num,
			    "%.17g", it->d));
		else
			JB_LIT(b, "null");
		break;
	case MV_STR:
		jb_str(b, it->s, it->len);
		break;
	default:
		JB_LIT(b, "null");
		break;
	}
}

/* Append v, a decoded value, as JSON (compact). */
static void
jb_value(struct jbuf *b, const struct mval *v)
{
	struct mitem it;
	size_t len, i;

	memset(&it, 0, sizeof it);
	switch ((it.kind = mval_kind(v))) {
	case MV_ARRAY:
		JB_LIT(b, "[");
		for (i = 0; i < mval_len(v); i++) {
			if (i > 0)
				JB_LIT(b, ",");
			jb_value(b, mval_at(v, i));
		}
		JB_LIT(b, "]");
		return;
	case MV_MAP:
		JB_LIT(b, "{");
		for (i = 0; i < mval_len(v); i++) {
			const struct mval *k = mval_key(v, i);

			if (i > 0)
				JB_LIT(b, ",");
			if (mval_kind(k) == MV_STR) {
				const char *s = mval_str(k, &len);

				jb_str(b, s, len);
			} else	/* the daemon sends string keys only */
				JB_LIT(b, "\"?\"");
			JB_LIT(b, ":");
			jb_value(b, mval_val(v, i));
		}
		JB_LIT(b, "}");
		return;
	case MV_BOOL:
		mval_bool(v, &it.b);
		break;
	case MV_INT:
		it.big = mval_int(v, &it.i) != 0;
		break;
	case MV_FLOAT:
		mval_double(v, &it.d);
		break;
	case MV_STR:
		it.s = mval_str(v, &len);
		it.len = len;
		break;
	default:
		break;
	}
	jb_scalar(b, &it);
}

/*
 * Append the msgpack value at *off in data as JSON, read in place, at most
 * depth containers deep (as jb_value prints a decoded one); -1 if the
 * bytes are malformed.
 */
static int
jb_raw(struct jbuf *b, const char *data, size_t len, size_t *off, int depth)
{
	struct mitem it;
	uint64_t i;

	if (depth < 0 || mraw_item(data, len, off, &it) != 0)
		return -1;
	switch (it.kind) {
	case MV_ARRAY:
		JB_LIT(b, "[");
		for (i = 0; i < it.len; i++) {
			if (i > 0)
				JB_LIT(b, ",");
			if (jb_raw(b, data, len, off, depth - 1) != 0)
				return -1;
			if (b->out != NULL && b->len >= JB_FLUSH) {
				fwrite(b->p, 1, b->len, b->out);
				b->len = 0;
			}
		}
		JB_LIT(b, "]");
		break;
	case MV_MAP:
		JB_LIT(b, "{");
		for (i = 0; i < it.len; i++) {
			struct mitem k;
			size_t koff = *off;

			if (i > 0)
				JB_LIT(b, ",");
			if (mraw_item(data, len, off, &k) != 0)
				return -1;
			if (k.kind == MV_STR)
				jb_str(b, k.s, k.len);
			else {	/* the daemon sends string keys only */
				*off = koff;
				if (mraw_skip(data, len, off, depth - 1) != 0)
					return -1;
				JB_LIT(b, "\"?\"");
			}
			JB_LIT(b, ":");
			if (jb_raw(b, data, len, off, depth - 1) != 0)
				return -1;
		}
		JB_LIT(b, "}");
		break;
	default:
		jb_scalar(b, &it);
		break;
	}
	return 0;
}

/*
 * Print the msgpack value at data + off as JSON without decoding it first
 * (zonectl --json status: half a megabyte for a thousand zones), written
 * out as it goes, in pieces of JB_FLUSH.  Returns -1 if the bytes turn out
 * to be malformed: what came before them has been printed.
 */
int
json_print_raw(FILE *f, const void *data, size_t len, size_t off)
{
	struct jbuf b = { NULL, 0, 0, f };
	int r;

	r = jb_raw(&b, data, len, &off, MSG_MAX_DEPTH);
	fwrite(b.p, 1, b.len, f);
	free(b.p);
	return r;
}

/* Print v as JSON (compact, one line, no newline). */
void
json_print(FILE *f, const struct mval *v)
{
	struct jbuf b = { NULL, 0, 0, NULL };

	jb_value(&b, v);
	fwrite(b.p, 1, b.len, f);
	free(b.p);
}

/* Print s as a JSON string. */
void
json_string(FILE *f, const char *s, size_t len)
{
	struct jbuf b = { NULL, 0, 0, NULL };

	jb_str(&b, s, len);
	fwrite(b.p, 1, b.len, f);
	free(b.p);
}
