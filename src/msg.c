/*
 * msg.c: the message layer, the only code in zonevisor that touches msgpack.
 * Writers build one frame (length header, then one msgpack object) with
 * containers whose counts are patched when they close; readers check a
 * payload's structure before msgpack-c unpacks it (so a forged count can never
 * make it allocate gigabytes) and hand out typed getters that check type and
 * range.  The link messages of proto.h each have a pack/unpack pair here.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "log.h"
#include "proto.h"
#include "xmalloc.h"

#define MSGW_INITIAL	512	/* bytes a frame's buffer starts with */

struct msgw_level {
	size_t		off;		/* offset of the container header */
	uint32_t	n;		/* values written inside it */
	int		map;
};

/*
 * A frame under construction.  The writer encodes msgpack itself, into one
 * buffer: a status of a thousand zones is thirty thousand values, and
 * msgpack-c's packer calls a write callback twice for each of them.
 */
struct msgw {
	struct {
		char	*data;
		size_t	 size;
		size_t	 alloc;
	}			sb;
	struct msgw_level	lv[MSG_MAX_DEPTH];
	int			depth;
	uint32_t		top;
};

struct mdoc {
	msgpack_unpacked	u;
	char			*data;	/* the payload: strings point into it */
};

static void msgw_count(struct msgw *);
static char *msgw_room(struct msgw *, size_t);
static void msgw_put(struct msgw *, const void *, size_t);
static void msgw_put_be(struct msgw *, unsigned char, uint64_t, int);
static void msgw_container_begin(struct msgw *, int);
static void msgw_container_end(struct msgw *, int);
static void put_be32(char *, uint32_t);
static const msgpack_object *obj(const struct mval *);
static const struct mval *val(const msgpack_object *);
static int get_int(struct msgr *, int64_t *, int64_t, int64_t);
static int get_str(struct msgr *, char *, size_t);
static int get_name(struct msgr *, int (*)(const char *));
static int get_bool(struct msgr *, int *);
static void pack_vm(struct msgw *, const struct vm_ident *);

/* Start a new frame: four header bytes that msgw_frame() fills in. */
struct msgw *
msgw_new(void)
{
	struct msgw *w = xcalloc(1, sizeof *w);

	/* Most frames are small: start at MSGW_INITIAL, not msgpack's 8 KiB. */
	w->sb.data = xmalloc(MSGW_INITIAL);
	w->sb.alloc = MSGW_INITIAL;
	msgw_put(w, "\0\0\0\0", FRAME_HEADER);
	return w;
}

/* Free a frame under construction or one that was sent. */
void
msgw_free(struct msgw *w)
{
	if (w == NULL)
		return;
	free(w->sb.data);
	free(w);
}

/* Count one value in the innermost open container. */
static void
msgw_count(struct msgw *w)
{
	if (w->depth > 0)
		w->lv[w->depth - 1].n++;
	else
		w->top++;
}

/* Open an array or map with a 32-bit count placeholder. */
static void
msgw_container_begin(struct msgw *w, int map)
{
	char hdr[5] = { map ? (char)0xdf : (char)0xdd, 0, 0, 0, 0 };

	msgw_count(w);
	if (w->depth == MSG_MAX_DEPTH)
		fatalx("%s: containers nested too deeply", __func__);
	w->lv[w->depth].off = w->sb.size;
	w->lv[w->depth].n = 0;
	w->lv[w->depth].map = map;
	w->depth++;
	msgw_put(w, hdr, sizeof hdr);
}

/* Close the innermost container and patch its count. */
static void
msgw_container_end(struct msgw *w, int map)
{
	struct msgw_level *l;

	if (w->depth == 0 || w->lv[w->depth - 1].map != map)
		fatalx("%s: unbalanced container", __func__);
	l = &w->lv[--w->depth];
	if (map && l->n % 2 != 0)
		fatalx("%s: map with a key but no value", __func__);
	put_be32(w->sb.data + l->off + 1, map ? l->n / 2 : l->n);
}

/* Open an array. */
void
msgw_array_begin(struct msgw *w)
{
	msgw_container_begin(w, 0);
}

/* Close an array. */
void
msgw_array_end(struct msgw *w)
{
	msgw_container_end(w, 0);
}

/* Open a map; keys and values alternate until msgw_map_end(). */
void
msgw_map_begin(struct msgw *w)
{
	msgw_container_begin(w, 1);
}

/* Close a map. */
void
msgw_map_end(struct msgw *w)
{
	msgw_container_end(w, 1);
}

/* Room for len more bytes: the buffer doubles. */
static char *
msgw_room(struct msgw *w, size_t len)
{
	if (w->sb.alloc - w->sb.size < len) {
		while (w->sb.alloc - w->sb.size < len)
			w->sb.alloc *= 2;
		w->sb.data = xreallocarray(w->sb.data, w->sb.alloc, 1);
	}
	return w->sb.data + w->sb.size;
}

/* Append len bytes as they are. */
static void
msgw_put(struct msgw *w, const void *data, size_t len)
{
	memcpy(msgw_room(w, len), data, len);
	w->sb.size += len;
}

/* Append a type byte and v in n big-endian bytes. */
static void
msgw_put_be(struct msgw *w, unsigned char type, uint64_t v, int n)
{
	unsigned char *p = (unsigned char *)msgw_room(w, 9);
	int i;

	p[0] = type;
	for (i = n; i > 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
	w->sb.size += (size_t)n + 1;
}

/* Add a signed integer, in its shortest msgpack form. */
void
msgw_int(struct msgw *w, int64_t v)
{
	unsigned char c;

	msgw_count(w);
	if (v >= 0) {
		if (v < 128) {
			c = (unsigned char)v;	/* positive fixint */
			msgw_put(w, &c, 1);
		} else if (v <= UINT8_MAX)
			msgw_put_be(w, 0xcc, (uint64_t)v, 1);
		else if (v <= UINT16_MAX)
			msgw_put_be(w, 0xcd, (uint64_t)v, 2);
		else if (v <= UINT32_MAX)
			msgw_put_be(w, 0xce, (uint64_t)v, 4);
		else
			msgw_put_be(w, 0xcf, (uint64_t)v, 8);
	} else if (v >= -32) {
		c = (unsigned char)(0xe0 | (v & 0x1f));	/* negative fixint */
		msgw_put(w, &c, 1);
	} else if (v >= INT8_MIN)
		msgw_put_be(w, 0xd0, (uint64_t)v & 0xff, 1);
	else if (v >= INT16_MIN)
		msgw_put_be(w, 0xd1, (uint64_t)v & 0xffff, 2);
	else if (v >= INT32_MIN)
		msgw_put_be(w, 0xd2, (uint64_t)v & 0xffffffff, 4);
	else
		msgw_put_be(w, 0xd3, (uint64_t)v, 8);
}

/* Add a boolean. */
void
msgw_bool(struct msgw *w, int v)
{
	unsigned char c = v ? 0xc3 : 0xc2;

	msgw_count(w);
	msgw_put(w, &c, 1);
}

/* Add nil. */
void
msgw_nil(struct msgw *w)
{
	unsigned char c = 0xc0;

	msgw_count(w);
	msgw_put(w, &c, 1);
}

/* Add a double (float 64). */
void
msgw_double(struct msgw *w, double v)
{
	uint64_t bits;

	msgw_count(w);
	memcpy(&bits, &v, sizeof bits);
	msgw_put_be(w, 0xcb, bits, 8);
}

/* Add a string, or nil for NULL. */
void
msgw_str(struct msgw *w, const char *s)
{
	if (s == NULL)
		msgw_nil(w);
	else
		msgw_strn(w, s, strlen(s));
}

/* Add an array of n strings. */
void
msgw_str_array(struct msgw *w, char *const *v, size_t n)
{
	size_t i;

	msgw_array_begin(w);
	for (i = 0; i < n; i++)
		msgw_str(w, v[i]);
	msgw_array_end(w);
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
size_t
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

/*
 * Add bytes of unknown encoding (a VM's console output) as a string, each
 * byte that is not part of valid UTF-8 replaced by U+FFFD, so that a client
 * that decodes strings strictly can read it.
 */
void
msgw_utf8(struct msgw *w, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n;
	char *copy, *o;

	for (i = 0; i < len; i += n)
		if ((n = utf8_len(u + i, len - i)) == 0)
			break;
	if (i == len) {
		msgw_strn(w, s, len);
		return;
	}
	o = copy = xmalloc(len * 3);	/* each byte at most U+FFFD's 3 */
	for (i = 0; i < len; i += n) {
		if ((n = utf8_len(u + i, len - i)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(o, s + i, n);
			o += n;
		}
	}
	msgw_strn(w, copy, (size_t)(o - copy));
	free(copy);
}

/* Add a string of known length. */
void
msgw_strn(struct msgw *w, const char *s, size_t len)
{
	unsigned char *p;

	msgw_count(w);
	p = (unsigned char *)msgw_room(w, len + 5);
	if (len < 32) {
		*p++ = (unsigned char)(0xa0 | len);	/* fixstr */
		w->sb.size += 1;
	} else if (len <= UINT8_MAX) {
		*p++ = 0xd9;
		*p++ = (unsigned char)len;
		w->sb.size += 2;
	} else if (len <= UINT16_MAX) {
		*p++ = 0xda;
		*p++ = (unsigned char)(len >> 8);
		*p++ = (unsigned char)len;
		w->sb.size += 3;
	} else {
		*p++ = 0xdb;
		put_be32((char *)p, (uint32_t)len);
		p += 4;
		w->sb.size += 5;
	}
	memcpy(p, s, len);
	w->sb.size += len;
}

/* Add one value already encoded as msgpack (a record read from disk). */
void
msgw_raw(struct msgw *w, const void *data, size_t len)
{
	msgw_count(w);
	msgw_put(w, data, len);
}

/* Finish the frame: exactly one top-level object, header patched. */
const void *
msgw_frame(struct msgw *w, size_t *len)
{
	if (w->depth != 0 || w->top != 1)
		fatalx("%s: a frame holds exactly one closed object", __func__);
	put_be32(w->sb.data, (uint32_t)(w->sb.size - FRAME_HEADER));
	*len = w->sb.size;
	return w->sb.data;
}

/* Make room for len more bytes at once (a big answer, built in one go). */
void
msgw_reserve(struct msgw *w, size_t len)
{
	if (w->sb.alloc - w->sb.size >= len)
		return;
	w->sb.data = xreallocarray(w->sb.data, w->sb.size + len, 1);
	w->sb.alloc = w->sb.size + len;
}

/*
 * Finish the frame as msgw_frame() does and hand its buffer over (the caller
 * frees it; *cap is its size) along with the writer, which is freed.
 */
char *
msgw_take(struct msgw *w, size_t *len, size_t *cap)
{
	char *data;

	msgw_frame(w, len);
	data = w->sb.data;
	*cap = w->sb.alloc;
	free(w);
	return data;
}

/* Store v big-endian in four bytes. */
static void
put_be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

/*
 * Check that a payload is exactly one well-formed msgpack object, nested at
 * most max_depth deep, whose every container count and length fits in the
 * bytes that remain.  This runs before msgpack-c sees the bytes: msgpack-c
 * allocates a container's elements from its declared count, and a forged
 * count would otherwise cost gigabytes.
 */
int
msg_check(const void *data, size_t len, int max_depth, const char **cause)
{
	const unsigned char *p = data;
	uint64_t left[MSG_MAX_DEPTH + 1];
	size_t pos = 0;
	int depth = 0;

	if (max_depth > MSG_MAX_DEPTH)
		max_depth = MSG_MAX_DEPTH;
	left[0] = 1;
	while (depth >= 0) {
		uint64_t count = 0, skip = 0;
		int container = 0, lenbytes = 0, extra = 0;
		unsigned char b;

		if (left[depth] == 0) {
			depth--;
			continue;
		}
		left[depth]--;
		if (pos >= len)
			goto truncated;
		b = p[pos++];
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
			skip = 0;
		else if (b >= 0x80 && b <= 0x8f) {
			container = 1;
			count = 2 * (uint64_t)(b & 0x0f);
		} else if (b >= 0x90 && b <= 0x9f) {
			container = 1;
			count = b & 0x0f;
		} else if (b >= 0xa0 && b <= 0xbf)
			skip = b & 0x1f;
		else {
			switch (b) {
			case 0xc4: case 0xd9: lenbytes = 1; break;
			case 0xc5: case 0xda: lenbytes = 2; break;
			case 0xc6: case 0xdb: lenbytes = 4; break;
			case 0xc7: lenbytes = 1; extra = 1; break;
			case 0xc8: lenbytes = 2; extra = 1; break;
			case 0xc9: lenbytes = 4; extra = 1; break;
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: container = 1; lenbytes = 2; break;
			case 0xdd: container = 1; lenbytes = 4; break;
			case 0xde: container = 2; lenbytes = 2; break;
			case 0xdf: container = 2; lenbytes = 4; break;
			default:
				*cause = "invalid msgpack type byte";
				return -1;
			}
		}
		if (lenbytes > 0) {
			uint64_t n = 0;
			int i;

			if (len - pos < (size_t)lenbytes)
				goto truncated;
			for (i = 0; i < lenbytes; i++)
				n = (n << 8) | p[pos++];
			if (container == 2)
				count = 2 * n;
			else if (container == 1)
				count = n;
			else
				skip = n + extra;
		}
		if (container) {
			if (depth + 1 > max_depth) {
				*cause = "containers nested too deeply";
				return -1;
			}
			if (count > len - pos) {
				*cause = "container count exceeds the frame";
				return -1;
			}
			left[++depth] = count;
		} else {
			if (skip > len - pos)
				goto truncated;
			pos += skip;
		}
	}
	if (pos != len) {
		*cause = "trailing bytes after the message";
		return -1;
	}
	return 0;

truncated:
	*cause = "truncated message";
	return -1;
}

/* n big-endian bytes at p. */
static uint64_t
get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Read the header of the msgpack value at *off in data (len bytes) without
 * building anything, for code that walks a large answer once (zonectl's
 * JSON): scalars and strings whole, containers as their count (the
 * elements follow), binary and extension values skipped.  Advances *off;
 * -1 if the bytes are not msgpack or run past len.
 */
int
mraw_item(const void *data, size_t len, size_t *off, struct mitem *it)
{
	const unsigned char *p = data;
	size_t pos = *off, need = 0;
	uint64_t u;
	unsigned char b;
	int n = 0;

	if (pos >= len)
		return -1;
	b = p[pos++];
	/* The most common first: short strings (keys), small integers, nil. */
	if (b >= 0xa0 && b <= 0xbf && (size_t)(b & 0x1f) <= len - pos) {
		it->kind = MV_STR;
		it->len = b & 0x1f;
		it->s = (const char *)p + pos;
		*off = pos + it->len;
		return 0;
	}
	if (b <= 0x7f) {
		it->kind = MV_INT;
		it->i = b;
		it->big = 0;
		*off = pos;
		return 0;
	}
	if (b == 0xc0) {
		it->kind = MV_NIL;
		*off = pos;
		return 0;
	}
	memset(it, 0, sizeof *it);
	if (b <= 0x7f || b >= 0xe0) {
		it->kind = MV_INT;
		it->i = b <= 0x7f ? b : (int8_t)b;
	} else if (b <= 0x8f || (b >= 0x90 && b <= 0x9f)) {
		it->kind = b <= 0x8f ? MV_MAP : MV_ARRAY;
		it->len = b & 0x0f;
	} else if (b <= 0xbf) {
		it->kind = MV_STR;
		it->len = b & 0x1f;
	} else {
		switch (b) {
		case 0xc0: it->kind = MV_NIL; break;
		case 0xc2: case 0xc3: it->kind = MV_BOOL; it->b = b == 0xc3; break;
		case 0xc4: case 0xc5: case 0xc6:
			it->kind = MV_BIN; n = 1 << (b - 0xc4); break;
		case 0xc7: case 0xc8: case 0xc9:
			it->kind = MV_EXT; n = 1 << (b - 0xc7); need = 1; break;
		case 0xca: it->kind = MV_FLOAT; n = 4; break;
		case 0xcb: it->kind = MV_FLOAT; n = 8; break;
		case 0xcc: case 0xcd: case 0xce: case 0xcf:
		case 0xd0: case 0xd1: case 0xd2: case 0xd3:
			it->kind = MV_INT;
			n = 1 << ((b - 0xcc) & 3);
			break;
		case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
			it->kind = MV_EXT; need = 1 + ((size_t)1 << (b - 0xd4));
			break;
		case 0xd9: case 0xda: case 0xdb:
			it->kind = MV_STR; n = 1 << (b - 0xd9); break;
		case 0xdc: case 0xdd:
			it->kind = MV_ARRAY; n = b == 0xdc ? 2 : 4; break;
		case 0xde: case 0xdf:
			it->kind = MV_MAP; n = b == 0xde ? 2 : 4; break;
		default:
			return -1;
		}
	}
	if ((size_t)n > len - pos)
		return -1;
	u = get_be(p + pos, n);
	pos += (size_t)n;
	switch (it->kind) {
	case MV_INT:
		if (b >= 0xcc && b <= 0xcf) {
			it->i = (int64_t)u;
			it->big = u > INT64_MAX;
		} else if (b >= 0xd0 && b <= 0xd3)	/* sign-extend */
			it->i = n == 8 ? (int64_t)u : (int64_t)(u ^
			    ((uint64_t)1 << (8 * n - 1))) -
			    ((int64_t)1 << (8 * n - 1));
		break;
	case MV_FLOAT:
		if (n == 4) {
			uint32_t f32 = (uint32_t)u;
			float f;

			memcpy(&f, &f32, sizeof f);
			it->d = f;
		} else
			memcpy(&it->d, &u, sizeof it->d);
		break;
	case MV_STR:
		if (n > 0)
			it->len = u;
		if (it->len > len - pos)
			return -1;
		it->s = (const char *)p + pos;
		pos += it->len;
		break;
	case MV_BIN:
	case MV_EXT:
		need += n > 0 ? u : 0;
		if (need > len - pos)
			return -1;
		pos += need;
		break;
	case MV_ARRAY:
	case MV_MAP:
		if (n > 0)
			it->len = u;
		/* Each element takes a byte at least (a map's two). */
		if (it->len > (len - pos) / (it->kind == MV_MAP ? 2 : 1))
			return -1;
		break;
	default:
		break;
	}
	*off = pos;
	return 0;
}

/* Skip the whole value at *off, at most depth containers deep; -1 if bad. */
int
mraw_skip(const void *data, size_t len, size_t *off, int depth)
{
	struct mitem it;
	uint64_t i, n;

	if (depth < 0 || mraw_item(data, len, off, &it) != 0)
		return -1;
	if (it.kind != MV_ARRAY && it.kind != MV_MAP)
		return 0;
	n = it.kind == MV_MAP ? 2 * it.len : it.len;
	for (i = 0; i < n; i++)
		if (mraw_skip(data, len, off, depth - 1) != 0)
			return -1;
	return 0;
}

/*
 * Find key in the map at the start of data: 0 with *off at its value, 1
 * if the map has no such key, -1 if data is no map or is malformed.
 */
int
mraw_get(const void *data, size_t len, const char *key, size_t *off)
{
	struct mitem it;
	size_t pos = 0, klen = strlen(key);
	uint64_t i;

	if (mraw_item(data, len, &pos, &it) != 0 || it.kind != MV_MAP)
		return -1;
	for (i = 0; i < it.len; i++) {
		struct mitem k;

		if (mraw_item(data, len, &pos, &k) != 0)
			return -1;
		if (k.kind == MV_STR && k.len == klen &&
		    memcmp(k.s, key, klen) == 0) {
			*off = pos;
			return 0;
		}
		if ((k.kind == MV_ARRAY || k.kind == MV_MAP) && k.len > 0)
			return -1;	/* keys are strings here */
		if (mraw_skip(data, len, &pos, MSG_MAX_DEPTH) != 0)
			return -1;
	}
	return 1;
}

/* Check and decode one payload; NULL with *cause set when it is malformed. */
struct mdoc *
mdoc_parse(const void *data, size_t len, const char **cause)
{
	struct mdoc *d;
	size_t off = 0, chunk;
	msgpack_unpack_return rc;

	if (len == 0) {
		*cause = "empty message";
		return NULL;
	}
	if (msg_check(data, len, MSG_MAX_DEPTH, cause) != 0)
		return NULL;
	/*
	 * A zone sized to the payload (msgpack-c's default is 8 KiB for any
	 * message); it grows by itself when the values need more.
	 */
	d = xcalloc(1, sizeof *d);
	/*
	 * A copy of its own: msgpack-c's strings point into the bytes it
	 * unpacked, and the caller's buffer moves on to the next frame.
	 */
	d->data = xmalloc(len);
	memcpy(d->data, data, len);
	msgpack_unpacked_init(&d->u);
	chunk = len < 256 ? 1024 : len < 16384 ? len * 4 : 65536;
	if ((d->u.zone = msgpack_zone_new(chunk)) == NULL)
		fatalx("%s: out of memory", __func__);
	rc = msgpack_unpack(d->data, len, &off, d->u.zone, &d->u.data);
	if (rc != MSGPACK_UNPACK_SUCCESS || off != len) {
		*cause = rc == MSGPACK_UNPACK_NOMEM_ERROR ?
		    "message too large to decode" : "malformed msgpack";
		mdoc_free(d);
		return NULL;
	}
	return d;
}

/* The top-level value of a document. */
const struct mval *
mdoc_root(const struct mdoc *d)
{
	return val(&d->u.data);
}

/* Free a document and every value in it. */
void
mdoc_free(struct mdoc *d)
{
	if (d == NULL)
		return;
	msgpack_unpacked_destroy(&d->u);
	free(d->data);
	free(d);
}

/* struct mval is msgpack_object behind an incomplete type. */
static const msgpack_object *
obj(const struct mval *v)
{
	return (const msgpack_object *)v;
}

/* The inverse of obj(). */
static const struct mval *
val(const msgpack_object *o)
{
	return (const struct mval *)o;
}

/* The kind of a value. */
enum mval_kind
mval_kind(const struct mval *v)
{
	switch (obj(v)->type) {
	case MSGPACK_OBJECT_NIL:
		return MV_NIL;
	case MSGPACK_OBJECT_BOOLEAN:
		return MV_BOOL;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return MV_INT;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return MV_FLOAT;
	case MSGPACK_OBJECT_STR:
		return MV_STR;
	case MSGPACK_OBJECT_BIN:
		return MV_BIN;
	case MSGPACK_OBJECT_ARRAY:
		return MV_ARRAY;
	case MSGPACK_OBJECT_MAP:
		return MV_MAP;
	default:
		return MV_EXT;
	}
}

/* An integer that fits int64_t; -1 for anything else. */
int
mval_int(const struct mval *v, int64_t *out)
{
	const msgpack_object *o = obj(v);

	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return -1;
		*out = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	return -1;
}

/* A boolean; -1 for anything else. */
int
mval_bool(const struct mval *v, int *out)
{
	if (obj(v)->type != MSGPACK_OBJECT_BOOLEAN)
		return -1;
	*out = obj(v)->via.boolean;
	return 0;
}

/* A float or integer as a double; -1 for anything else. */
int
mval_double(const struct mval *v, double *out)
{
	int64_t i;

	if (obj(v)->type == MSGPACK_OBJECT_FLOAT32 ||
	    obj(v)->type == MSGPACK_OBJECT_FLOAT64) {
		*out = obj(v)->via.f64;
		return 0;
	}
	if (mval_int(v, &i) == 0) {
		*out = (double)i;
		return 0;
	}
	return -1;
}

/* The bytes of a string (not NUL-terminated) or NULL if v is no string. */
const char *
mval_str(const struct mval *v, size_t *len)
{
	if (obj(v)->type != MSGPACK_OBJECT_STR)
		return NULL;
	*len = obj(v)->via.str.size;
	return obj(v)->via.str.size == 0 ? "" : obj(v)->via.str.ptr;
}

/* Copy a string without NUL bytes that fits in size; -1 otherwise. */
int
mval_strcpy(const struct mval *v, char *buf, size_t size)
{
	const char *s;
	size_t len;

	if ((s = mval_str(v, &len)) == NULL || len >= size ||
	    memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

/* A new copy of a string without NUL bytes, or NULL. */
char *
mval_strdup(const struct mval *v)
{
	const char *s;
	size_t len;

	if ((s = mval_str(v, &len)) == NULL || memchr(s, '\0', len) != NULL)
		return NULL;
	return xstrndup(s, len);
}

/* Number of elements of an array or pairs of a map; 0 for scalars. */
size_t
mval_len(const struct mval *v)
{
	if (obj(v)->type == MSGPACK_OBJECT_ARRAY)
		return obj(v)->via.array.size;
	if (obj(v)->type == MSGPACK_OBJECT_MAP)
		return obj(v)->via.map.size;
	return 0;
}

/* Element i of an array, or NULL. */
const struct mval *
mval_at(const struct mval *v, size_t i)
{
	if (obj(v)->type != MSGPACK_OBJECT_ARRAY || i >= obj(v)->via.array.size)
		return NULL;
	return val(&obj(v)->via.array.ptr[i]);
}

/* Key of pair i of a map, or NULL. */
const struct mval *
mval_key(const struct mval *v, size_t i)
{
	if (obj(v)->type != MSGPACK_OBJECT_MAP || i >= obj(v)->via.map.size)
		return NULL;
	return val(&obj(v)->via.map.ptr[i].key);
}

/* Value of pair i of a map, or NULL. */
const struct mval *
mval_val(const struct mval *v, size_t i)
{
	if (obj(v)->type != MSGPACK_OBJECT_MAP || i >= obj(v)->via.map.size)
		return NULL;
	return val(&obj(v)->via.map.ptr[i].val);
}

/* The value under a string key of a map, or NULL. */
const struct mval *
mval_get(const struct mval *v, const char *key)
{
	const msgpack_object_map *m;
	size_t klen = strlen(key);
	uint32_t i;

	if (obj(v)->type != MSGPACK_OBJECT_MAP)
		return NULL;
	m = &obj(v)->via.map;
	for (i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return val(&m->ptr[i].val);
	}
	return NULL;
}

/*
 * Field key of map m as a string that fits buf; -1 (with *missing set to
 * key) if it is absent or is not such a string.
 */
int
mval_get_str(const struct mval *m, const char *key, char *buf, size_t len,
    const char **missing)
{
	const struct mval *v = mval_get(m, key);

	if (v == NULL || mval_strcpy(v, buf, len) != 0) {
		*missing = key;
		return -1;
	}
	return 0;
}

/* Field key of map m as an integer within [min, max], like mval_get_str. */
int
mval_get_int(const struct mval *m, const char *key, int64_t min, int64_t max,
    int64_t *out, const char **missing)
{
	const struct mval *v = mval_get(m, key);

	if (v == NULL || mval_int(v, out) != 0 || *out < min || *out > max) {
		*out = 0;
		*missing = key;
		return -1;
	}
	return 0;
}

/*
 * Parse a record file's n bytes: a map whose "version" must be version.
 * Returns the document, or NULL with a reason in cause.  A missing version
 * is not refused here: *missing names it, like mval_get_int's.
 */
struct mdoc *
mdoc_parse_versioned(const void *buf, size_t n, int64_t version,
    const char **missing, char *cause, size_t len)
{
	const char *why = NULL;
	struct mdoc *doc;
	int64_t v;

	if ((doc = mdoc_parse(buf, n, &why)) == NULL) {
		snprintf(cause, len, "%s", n == 0 ? "empty file" : why);
		return NULL;
	}
	if (mval_kind(mdoc_root(doc)) != MV_MAP) {
		snprintf(cause, len, "not a map");
		mdoc_free(doc);
		return NULL;
	}
	if (mval_get_int(mdoc_root(doc), "version", 0, INT32_MAX, &v,
	    missing) == 0 && v != version) {
		snprintf(cause, len, "version %lld, expected %lld",
		    (long long)v, (long long)version);
		mdoc_free(doc);
		return NULL;
	}
	return doc;
}

/* Begin reading a link message: an array whose first element is its type. */
int
msg_open(const struct mdoc *d, struct msgr *r, int *type)
{
	const struct mval *root = mdoc_root(d);
	int64_t t;

	r->array = root;
	r->next = 1;
	r->error = 0;
	if (mval_kind(root) != MV_ARRAY || mval_len(root) < 1 ||
	    mval_int(mval_at(root, 0), &t) != 0 || t < 0 || t > INT_MAX)
		return -1;
	*type = (int)t;
	return 0;
}

/* Finish reading: -1 if a getter failed or fields remain unread. */
int
msg_end(struct msgr *r)
{
	if (r->error || r->next != mval_len(r->array))
		return -1;
	return 0;
}

/* Next field as an integer within [min, max]. */
static int
get_int(struct msgr *r, int64_t *out, int64_t min, int64_t max)
{
	const struct mval *v = mval_at(r->array, r->next++);

	if (v == NULL || mval_int(v, out) != 0 || *out < min || *out > max) {
		*out = 0;
		r->error = 1;
		return -1;
	}
	return 0;
}

/* Next field as a string that fits buf; nil reads as "". */
static int
get_str(struct msgr *r, char *buf, size_t size)
{
	const struct mval *v = mval_at(r->array, r->next++);

	if (v != NULL && mval_kind(v) == MV_NIL) {
		buf[0] = '\0';
		return 0;
	}
	if (v == NULL || mval_strcpy(v, buf, size) != 0) {
		buf[0] = '\0';
		r->error = 1;
		return -1;
	}
	return 0;
}

/* Next field as a name that parse() maps to an enum value. */
static int
get_name(struct msgr *r, int (*parse)(const char *))
{
	char buf[64];
	int v;

	if (get_str(r, buf, sizeof buf) != 0)
		return -1;
	if ((v = parse(buf)) < 0) {
		r->error = 1;
		return -1;
	}
	return v;
}

/* Next field as a boolean. */
static int
get_bool(struct msgr *r, int *out)
{
	const struct mval *v = mval_at(r->array, r->next++);

	if (v == NULL || mval_bool(v, out) != 0) {
		*out = 0;
		r->error = 1;
		return -1;
	}
	return 0;
}

/* MSG_HELLO. */
struct msgw *
msg_pack_hello(const struct msg_hello *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_HELLO);
	msgw_int(w, m->version);
	msgw_str(w, m->zone);
	msgw_int(w, m->pid);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_HELLO. */
int
msg_unpack_hello(struct msgr *r, struct msg_hello *m)
{
	int64_t v, pid;

	get_int(r, &v, 0, UINT32_MAX);
	m->version = (uint32_t)v;
	get_str(r, m->zone, sizeof m->zone);
	get_int(r, &pid, 0, INT_MAX);
	m->pid = (pid_t)pid;
	return msg_end(r);
}

/* A message without fields (MSG_SHUTDOWN, MSG_REOPEN_LOGS). */
struct msgw *
msg_pack_empty(int type)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, type);
	msgw_array_end(w);
	return w;
}

/* MSG_ZONE_START, MSG_ZONE_STOP or MSG_ZONE_RESTART. */
struct msgw *
msg_pack_zone_op(int type, const struct msg_zone_op *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, type);
	msgw_str(w, m->op_id);
	msgw_str(w, names_trigger(m->trigger));
	msgw_int(w, m->timeout_ms);
	msgw_array_end(w);
	return w;
}

/* Fields of a zone operation message; the operation id must not be empty. */
int
msg_unpack_zone_op(struct msgr *r, struct msg_zone_op *m)
{
	get_str(r, m->op_id, sizeof m->op_id);
	m->trigger = get_name(r, names_trigger_parse);
	get_int(r, &m->timeout_ms, 0, INT64_MAX / 2);
	if (m->op_id[0] == '\0')
		r->error = 1;
	return msg_end(r);
}

/* MSG_ZONE_STATUS. */
struct msgw *
msg_pack_zone_status(const struct zone_status *s)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_ZONE_STATUS);
	msgw_str(w, names_state(s->state));
	msgw_str(w, names_state(s->desired));
	msgw_int(w, s->pid);
	msgw_int(w, (int64_t)s->vm_start);
	msgw_int(w, s->since_ms);
	msgw_int(w, s->booted_at_ms);
	msgw_int(w, (int64_t)s->generation);
	msgw_str(w, names_error(s->error));
	msgw_str(w, s->message);
	msgw_bool(w, s->eligible);
	msgw_str(w, names_evidence(s->evidence));
	msgw_str(w, s->evidence_detail);
	msgw_int(w, s->restarts);
	msgw_int(w, s->exit_code);
	msgw_int(w, s->exit_signal);
	msgw_str(w, s->op_id);
	msgw_str(w, names_operation(s->op_kind));
	msgw_str(w, names_trigger(s->op_trigger));
	msgw_str(w, names_op_result(s->op_result));
	msgw_str(w, names_error(s->op_error));
	msgw_int(w, s->op_at_ms);
	msgw_str(w, names_error(s->outage));
	msgw_str(w, s->outage_message);
	msgw_int(w, s->outage_at_ms);
	msgw_int(w, s->health_ok);
	msgw_int(w, s->health_failures);
	msgw_int(w, s->health_at_ms);
	msgw_int(w, s->health_latency_ms);
	msgw_str(w, s->health_detail);
	msgw_int(w, s->persist_since_ms);
	msgw_str(w, s->persist_cause);
	msgw_int(w, s->records_lost);
	msgw_array_end(w);
	return w;
}

/*
 * Fields of MSG_ZONE_STATUS, each range-checked; persistence is degraded
 * (a time) with a cause, or ok (0) without one.
 */
int
msg_unpack_zone_status(struct msgr *r, struct zone_status *s)
{
	int64_t pid, start, gen, restarts, code, sig, hok, hfail, lost;

	memset(s, 0, sizeof *s);
	s->state = get_name(r, names_state_parse);
	s->desired = get_name(r, names_state_parse);
	get_int(r, &pid, 0, INT_MAX);
	s->pid = (pid_t)pid;
	get_int(r, &start, 0, INT64_MAX);
	s->vm_start = (uint64_t)start;
	get_int(r, &s->since_ms, 0, INT64_MAX);
	get_int(r, &s->booted_at_ms, 0, INT64_MAX);
	get_int(r, &gen, 0, INT64_MAX);
	s->generation = (uint64_t)gen;
	s->error = get_name(r, names_error_parse);
	get_str(r, s->message, sizeof s->message);
	get_bool(r, &s->eligible);
	s->evidence = get_name(r, names_evidence_parse);
	get_str(r, s->evidence_detail, sizeof s->evidence_detail);
	get_int(r, &restarts, 0, UINT32_MAX);
	s->restarts = (uint32_t)restarts;
	get_int(r, &code, -1, 255);
	s->exit_code = (int)code;
	get_int(r, &sig, 0, 128);
	s->exit_signal = (int)sig;
	get_str(r, s->op_id, sizeof s->op_id);
	s->op_kind = get_name(r, names_operation_parse);
	s->op_trigger = get_name(r, names_trigger_parse);
	s->op_result = get_name(r, names_op_result_parse);
	s->op_error = get_name(r, names_error_parse);
	get_int(r, &s->op_at_ms, 0, INT64_MAX);
	s->outage = get_name(r, names_error_parse);
	get_str(r, s->outage_message, sizeof s->outage_message);
	get_int(r, &s->outage_at_ms, 0, INT64_MAX);
	get_int(r, &hok, -1, 1);
	s->health_ok = (int)hok;
	get_int(r, &hfail, 0, INT_MAX);
	s->health_failures = (int)hfail;
	get_int(r, &s->health_at_ms, 0, INT64_MAX);
	get_int(r, &s->health_latency_ms, 0, INT64_MAX);
	get_str(r, s->health_detail, sizeof s->health_detail);
	get_int(r, &s->persist_since_ms, 0, INT64_MAX);
	get_str(r, s->persist_cause, sizeof s->persist_cause);
	get_int(r, &lost, 0, UINT32_MAX);
	s->records_lost = (uint32_t)lost;
	if ((s->persist_since_ms == 0) != (s->persist_cause[0] == '\0'))
		r->error = 1;
	return msg_end(r);
}

/* MSG_OP_DONE. */
struct msgw *
msg_pack_op_done(const struct msg_op_done *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_OP_DONE);
	msgw_str(w, m->op_id);
	msgw_bool(w, m->ok);
	msgw_str(w, names_error(m->error));
	msgw_str(w, m->message);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_OP_DONE. */
int
msg_unpack_op_done(struct msgr *r, struct msg_op_done *m)
{
	get_str(r, m->op_id, sizeof m->op_id);
	get_bool(r, &m->ok);
	m->error = get_name(r, names_error_parse);
	get_str(r, m->message, sizeof m->message);
	return msg_end(r);
}

/* MSG_HEALTH_RESULT. */
struct msgw *
msg_pack_health_result(const struct msg_health_result *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_HEALTH_RESULT);
	msgw_str(w, m->id);
	msgw_bool(w, m->ok);
	msgw_int(w, m->latency_ms);
	msgw_str(w, m->detail);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_HEALTH_RESULT. */
int
msg_unpack_health_result(struct msgr *r, struct msg_health_result *m)
{
	get_str(r, m->id, sizeof m->id);
	get_bool(r, &m->ok);
	get_int(r, &m->latency_ms, 0, INT64_MAX);
	get_str(r, m->detail, sizeof m->detail);
	return msg_end(r);
}

/* MSG_LEASE_OP. */
struct msgw *
msg_pack_lease_op(const struct msg_lease_op *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_LEASE_OP);
	msgw_str(w, m->id);
	msgw_str(w, names_lease_op(m->op));
	msgw_str(w, m->lease);
	msgw_int(w, m->ttl_ms);
	msgw_str(w, m->owner);
	msgw_bool(w, m->force);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_LEASE_OP: a list is answered by the parent alone. */
int
msg_unpack_lease_op(struct msgr *r, struct msg_lease_op *m)
{
	memset(m, 0, sizeof *m);
	get_str(r, m->id, sizeof m->id);
	m->op = get_name(r, names_lease_op_parse);
	get_str(r, m->lease, sizeof m->lease);
	get_int(r, &m->ttl_ms, 0, LEASE_TTL_MAX_MS);
	get_str(r, m->owner, sizeof m->owner);
	get_bool(r, &m->force);
	if (m->id[0] == '\0' || m->op == LOP_LIST ||
	    (m->op != LOP_ACQUIRE && m->lease[0] == '\0') ||
	    (m->ttl_ms != 0 && m->ttl_ms < LEASE_TTL_MIN_MS))
		r->error = 1;
	return msg_end(r);
}

/* The fields of one lease, in place in a message's array. */
static void
pack_lease(struct msgw *w, const struct lease_info *l)
{
	msgw_str(w, l->id);
	msgw_int(w, l->slot);
	msgw_int(w, l->port);
	msgw_str(w, names_lease_state(l->state));
	msgw_int(w, l->pid);
	msgw_int(w, (int64_t)l->start_time);
	msgw_str(w, l->owner);
	msgw_int(w, l->acquired_at_ms);
	msgw_int(w, l->renewed_at_ms);
	msgw_int(w, l->expires_at_ms);
	msgw_int(w, l->ttl_ms);
}
#define LEASE_FIELDS	11

/* The next LEASE_FIELDS fields as one lease. */
static int
get_lease(struct msgr *r, struct lease_info *l)
{
	int64_t slot, port, pid, start;

	memset(l, 0, sizeof *l);
	get_str(r, l->id, sizeof l->id);
	get_int(r, &slot, 0, 2 * LEASES_MAX);
	get_int(r, &port, 0, 65535);
	l->state = get_name(r, names_lease_state_parse);
	get_int(r, &pid, 0, INT32_MAX);
	get_int(r, &start, 0, INT64_MAX);
	get_str(r, l->owner, sizeof l->owner);
	get_int(r, &l->acquired_at_ms, 0, INT64_MAX);
	get_int(r, &l->renewed_at_ms, 0, INT64_MAX);
	get_int(r, &l->expires_at_ms, 0, INT64_MAX);
	get_int(r, &l->ttl_ms, 0, LEASE_TTL_MAX_MS);
	l->slot = (int)slot;
	l->port = (int)port;
	l->pid = (pid_t)pid;
	l->start_time = (uint64_t)start;
	return r->error ? -1 : 0;
}

/* MSG_LEASE_DONE. */
struct msgw *
msg_pack_lease_done(const struct msg_lease_done *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_LEASE_DONE);
	msgw_str(w, m->id);
	msgw_bool(w, m->ok);
	msgw_str(w, m->code);
	msgw_str(w, m->message);
	pack_lease(w, &m->lease);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_LEASE_DONE. */
int
msg_unpack_lease_done(struct msgr *r, struct msg_lease_done *m)
{
	memset(m, 0, sizeof *m);
	get_str(r, m->id, sizeof m->id);
	get_bool(r, &m->ok);
	get_str(r, m->code, sizeof m->code);
	get_str(r, m->message, sizeof m->message);
	get_lease(r, &m->lease);
	if (m->id[0] == '\0' || (!m->ok && m->code[0] == '\0'))
		r->error = 1;
	return msg_end(r);
}

/* MSG_LEASES: the count, then each lease's fields in a row. */
struct msgw *
msg_pack_leases(const struct msg_leases *m)
{
	struct msgw *w = msgw_new();
	size_t i;

	msgw_array_begin(w);
	msgw_int(w, MSG_LEASES);
	msgw_str(w, names_tool_plane(m->plane));
	msgw_str(w, m->detail);
	msgw_int(w, (int64_t)m->n);
	for (i = 0; i < m->n; i++)
		pack_lease(w, &m->leases[i]);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_LEASES; m->leases is to be freed, also on failure. */
int
msg_unpack_leases(struct msgr *r, struct msg_leases *m)
{
	int64_t n;
	size_t i;

	memset(m, 0, sizeof *m);
	m->plane = get_name(r, names_tool_plane_parse);
	get_str(r, m->detail, sizeof m->detail);
	if (get_int(r, &n, 0, 2 * LEASES_MAX) != 0 ||
	    mval_len(r->array) != r->next + (size_t)n * LEASE_FIELDS)
		return -1;
	m->n = (size_t)n;
	m->leases = xcalloc(m->n > 0 ? m->n : 1, sizeof *m->leases);
	for (i = 0; i < m->n; i++)
		if (get_lease(r, &m->leases[i]) != 0)
			return -1;
	return msg_end(r);
}

/* MSG_ESCALATE. */
struct msgw *
msg_pack_escalate(const struct msg_escalate *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_ESCALATE);
	msgw_str(w, names_error(m->error));
	msgw_str(w, m->message);
	msgw_int(w, m->exit_code);
	msgw_int(w, m->exit_signal);
	msgw_int(w, m->uptime_ms);
	msgw_int(w, m->vm.pid);
	msgw_int(w, (int64_t)m->vm.start_time);
	msgw_str(w, names_evidence(m->evidence));
	msgw_str(w, m->evidence_detail);
	msgw_str(w, m->acted);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_ESCALATE. */
int
msg_unpack_escalate(struct msgr *r, struct msg_escalate *m)
{
	int64_t code, sig, pid, start;

	memset(m, 0, sizeof *m);
	m->error = get_name(r, names_error_parse);
	get_str(r, m->message, sizeof m->message);
	get_int(r, &code, -1, 255);
	m->exit_code = (int)code;
	get_int(r, &sig, 0, 128);
	m->exit_signal = (int)sig;
	get_int(r, &m->uptime_ms, 0, INT64_MAX);
	get_int(r, &pid, 0, INT_MAX);
	m->vm.pid = (pid_t)pid;
	get_int(r, &start, 0, INT64_MAX);
	m->vm.start_time = (uint64_t)start;
	m->evidence = get_name(r, names_evidence_parse);
	get_str(r, m->evidence_detail, sizeof m->evidence_detail);
	get_str(r, m->acted, sizeof m->acted);
	return msg_end(r);
}

/* MSG_ZONE_ARM. */
struct msgw *
msg_pack_zone_arm(const struct msg_zone_arm *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_ZONE_ARM);
	msgw_int(w, m->vm.pid);
	msgw_int(w, (int64_t)m->vm.start_time);
	msgw_str(w, m->op_id);
	msgw_int(w, m->timeout_ms);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_ZONE_ARM; an arm names a VM, a disarm names none. */
int
msg_unpack_zone_arm(struct msgr *r, struct msg_zone_arm *m)
{
	int64_t pid, start;

	memset(m, 0, sizeof *m);
	get_int(r, &pid, 0, INT_MAX);
	m->vm.pid = (pid_t)pid;
	get_int(r, &start, 0, INT64_MAX);
	m->vm.start_time = (uint64_t)start;
	get_str(r, m->op_id, sizeof m->op_id);
	get_int(r, &m->timeout_ms, 0, INT64_MAX / 2);
	if ((m->op_id[0] != '\0') != (m->vm.pid != 0))
		r->error = 1;
	return msg_end(r);
}

/* MSG_ZONE_HEALTH. */
struct msgw *
msg_pack_zone_health(const struct msg_zone_health *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_ZONE_HEALTH);
	msgw_str(w, names_probe(m->probe));
	msgw_int(w, m->interval_ms);
	msgw_int(w, m->timeout_ms);
	msgw_int(w, m->failure_threshold);
	msgw_int(w, m->start_period_ms);
	msgw_str(w, m->http_path);
	msgw_str(w, m->exec);
	msgw_array_end(w);
	return w;
}

/*
 * Fields of MSG_ZONE_HEALTH, held to what a zone file may say: durations of
 * at least 10ms, a timeout shorter than the interval, 1 to 1000 failures,
 * an exec command only for an exec probe and a request path (absolute, no
 * blanks or control characters) only for an http one.
 */
int
msg_unpack_zone_health(struct msgr *r, struct msg_zone_health *m)
{
	int64_t n;
	const char *c;

	memset(m, 0, sizeof *m);
	m->probe = get_name(r, names_probe_parse);
	get_int(r, &m->interval_ms, 10, INT64_MAX / 2);
	get_int(r, &m->timeout_ms, 10, INT64_MAX / 2);
	get_int(r, &n, 1, 1000);
	m->failure_threshold = (int)n;
	get_int(r, &m->start_period_ms, 0, INT64_MAX / 2);
	get_str(r, m->http_path, sizeof m->http_path);
	get_str(r, m->exec, sizeof m->exec);
	if (m->timeout_ms >= m->interval_ms)
		r->error = 1;
	if ((m->probe == PROBE_EXEC) != (m->exec[0] != '\0'))
		r->error = 1;
	if ((m->probe == PROBE_HTTP) != (m->http_path[0] != '\0'))
		r->error = 1;
	if (m->http_path[0] != '\0' && m->http_path[0] != '/')
		r->error = 1;
	for (c = m->http_path; *c != '\0'; c++)
		if (*c <= ' ' || *c == 0x7f)
			r->error = 1;
	return msg_end(r);
}

/* MSG_ZONE_NOTE. */
struct msgw *
msg_pack_zone_note(const struct msg_zone_note *m)
{
	struct msgw *w = msgw_new();

	msgw_array_begin(w);
	msgw_int(w, MSG_ZONE_NOTE);
	msgw_str(w, names_record(m->kind));
	msgw_str(w, m->message);
	msgw_array_end(w);
	return w;
}

/* Fields of MSG_ZONE_NOTE; only the parent's own decisions are taken. */
int
msg_unpack_zone_note(struct msgr *r, struct msg_zone_note *m)
{
	m->kind = get_name(r, names_record_parse);
	get_str(r, m->message, sizeof m->message);
	if (m->kind != REC_RECOVERY_SCHEDULED && m->kind != REC_RECOVERY_SUSPENDED)
		r->error = 1;
	return msg_end(r);
}

/* A VM identity as {pid, start_time}, or nil for none. */
static void
pack_vm(struct msgw *w, const struct vm_ident *vm)
{
	if (vm->pid == 0) {
		msgw_nil(w);
		return;
	}
	msgw_map_begin(w);
	msgw_key(w, "pid");
	msgw_int(w, vm->pid);
	msgw_key(w, "start_time");
	msgw_int(w, (int64_t)vm->start_time);
	msgw_map_end(w);
}

/*
 * A lifecycle record, as the map stored in lifecycle.log and shown by
 * zonectl events.  Empty fields are left out.
 */
struct msgw *
msg_pack_record(const struct record *rec)
{
	struct msgw *w = msgw_new();

	msgw_map_begin(w);
	msgw_key(w, "zone");
	msgw_str(w, rec->zone);
	msgw_key(w, "kind");
	msgw_str(w, names_record(rec->kind));
	msgw_key(w, "observed_at");
	msgw_int(w, rec->observed_at_ms);
	msgw_key(w, "operation_id");
	msgw_str(w, rec->op_id);
	msgw_key(w, "trigger");
	msgw_str(w, rec->trigger >= 0 ? names_trigger(rec->trigger) : NULL);
	msgw_key(w, "supervisor_pid");
	msgw_int(w, rec->supervisor_pid);
	msgw_key(w, "generation");
	msgw_int(w, (int64_t)rec->generation);
	if (rec->previous_vm.pid != 0) {
		msgw_key(w, "previous_vm");
		pack_vm(w, &rec->previous_vm);
	}
	if (rec->current_vm.pid != 0) {
		msgw_key(w, "current_vm");
		pack_vm(w, &rec->current_vm);
	}
	if (rec->error != ERR_NONE) {
		msgw_key(w, "error_code");
		msgw_str(w, names_error(rec->error));
	}
	if (rec->message != NULL && rec->message[0] != '\0') {
		msgw_key(w, "error_message");
		msgw_str(w, rec->message);
	}
	if (rec->evidence != EVD_NONE) {
		msgw_key(w, "evidence");
		msgw_map_begin(w);
		msgw_key(w, "kind");
		msgw_str(w, names_evidence(rec->evidence));
		msgw_key(w, "detail");
		msgw_str(w, rec->detail);
		msgw_map_end(w);
	}
	if (rec->lease != NULL) {
		msgw_key(w, "lease");
		msgw_map_begin(w);
		msgw_key(w, "id");
		msgw_str(w, rec->lease->id);
		msgw_key(w, "slot");
		msgw_int(w, rec->lease->slot);
		msgw_key(w, "port");
		msgw_int(w, rec->lease->port);
		if (rec->lease->owner[0] != '\0') {
			msgw_key(w, "owner");
			msgw_str(w, rec->lease->owner);
		}
		msgw_key(w, "expires_at");
		msgw_int(w, rec->lease->expires_at_ms);
		msgw_map_end(w);
	}
	msgw_map_end(w);
	return w;
}
