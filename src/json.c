/*
 * json.c: prints a decoded msgpack value as JSON, for zonectl --json.  The
 * daemon's answers are printed as they came, so every field the daemon adds
 * reaches scripts without zonectl knowing of it.  Strings are escaped per
 * RFC 8259; bytes that are not valid UTF-8 become U+FFFD; binary and
 * extension values, which the daemon never sends, print as null.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "zonevisor.h"

static size_t utf8_len(const unsigned char *, size_t);

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t left)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Print s as a JSON string. */
void
json_string(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	fputc('"', f);
	while (i < len) {
		unsigned char c = s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
				break;
			}
			if ((n = utf8_len(s + i, len - i)) == 0) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(s + i, 1, n, f);
			i += n;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

/* Print v as JSON (compact, one line). */
void
json_print(FILE *f, const struct mval *v)
{
	const char *s;
	size_t len, i;
	int64_t n;
	double d;
	int b;

	switch (mval_kind(v)) {
	case MV_NIL:
	case MV_BIN:
	case MV_EXT:
		fputs("null", f);
		break;
	case MV_BOOL:
		mval_bool(v, &b);
		fputs(b ? "true" : "false", f);
		break;
	case MV_INT:
		if (mval_int(v, &n) == 0)
			fprintf(f, "%lld", (long long)n);
		else
			fputs("null", f);
		break;
	case MV_FLOAT:
		mval_double(v, &d);
		if (isfinite(d))
			fprintf(f, "%.17g", d);
		else
			fputs("null", f);
		break;
	case MV_STR:
		s = mval_str(v, &len);
		json_string(f, s, len);
		break;
	case MV_ARRAY:
		fputc('[', f);
		for (i = 0; i < mval_len(v); i++) {
			if (i > 0)
				fputc(',', f);
			json_print(f, mval_at(v, i));
		}
		fputc(']', f);
		break;
	case MV_MAP:
		fputc('{', f);
		for (i = 0; i < mval_len(v); i++) {
			const struct mval *k = mval_key(v, i);

			if (i > 0)
				fputc(',', f);
			if (mval_kind(k) == MV_STR) {
				s = mval_str(k, &len);
				json_string(f, s, len);
			} else {
				/* The daemon sends string keys only. */
				fputs("\"?\"", f);
			}
			fputc(':', f);
			json_print(f, mval_val(v, i));
		}
		fputc('}', f);
		break;
	}
}
