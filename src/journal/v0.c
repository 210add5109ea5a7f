// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The version-0 decision journal: one tab-separated text line per decision
 * (docs/journal-format.md). The writer appends whole lines with one write(2)
 * each; the reader skips what a crash or an editor may have left behind (a
 * torn last line, malformed lines), saying so once per line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/v0.h"

/* ---- the line: one table drives both directions ---- */

enum field_kind {
	F_U64,
	F_U32,
	F_ACTION,
	F_VERDICT,
	F_MODE,
	F_REASON,
	F_COMM,
	F_TEXT, /* a char * member */
	F_ACCESS, /* names joined by ',', possibly none */
	F_END,  /* JOURNAL_END_MARK */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t offset;
};

#define FIELD(member, kind) { #member, kind, offsetof(struct journal_record, member) }

/* The order of the fields on a line; docs/journal-format.md documents it. */
static const struct field fields[JOURNAL_FIELDS] = {
	FIELD(time_ns, F_U64),
	FIELD(action, F_ACTION),
	FIELD(verdict, F_VERDICT),
	FIELD(mode, F_MODE),
	FIELD(reason, F_REASON),
	FIELD(workload_id, F_U64),
	FIELD(cgroup_id, F_U64),
	FIELD(pid, F_U32),
	FIELD(tgid, F_U32),
	FIELD(ppid, F_U32),
	FIELD(uid, F_U32),
	FIELD(generation, F_U32),
	FIELD(comm, F_COMM),
	FIELD(workload, F_TEXT),
	FIELD(principal, F_TEXT),
	FIELD(labels, F_TEXT),
	FIELD(policy, F_TEXT),
	FIELD(rule, F_TEXT),
	FIELD(target, F_TEXT),
	FIELD(access, F_ACCESS),
	{ "end", F_END, 0 },
};

/* The fields of a line written before the access field was added. */
static const struct field *const fields_without_access[JOURNAL_FIELDS_WITHOUT_ACCESS] = {
	&fields[0], &fields[1], &fields[2], &fields[3], &fields[4], &fields[5], &fields[6],
	&fields[7], &fields[8], &fields[9], &fields[10], &fields[11], &fields[12], &fields[13],
	&fields[14], &fields[15], &fields[16], &fields[17], &fields[18], &fields[20],
};

struct linebuf {
	char *p;
	size_t len;
	size_t cap;
	int error;
};

static void lb_add(struct linebuf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->error)
		return;
	if (n > b->cap - b->len) {
		cap = b->cap ? b->cap : 512;
		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->error = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Escape so that a field never holds a tab, a line break or any control byte. */
static void lb_add_escaped(struct linebuf *b, const char *s, size_t n)
{
	size_t i, start = 0;
	char esc[5];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != 0x7f && c != '\\')
			continue;
		lb_add(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '\\':
			lb_add(b, "\\\\", 2);
			break;
		case '\t':
			lb_add(b, "\\t", 2);
			break;
		case '\n':
			lb_add(b, "\\n", 2);
			break;
		case '\r':
			lb_add(b, "\\r", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			lb_add(b, esc, 4);
			break;
		}
	}
	lb_add(b, s + start, n - start);
}

static void lb_add_u64(struct linebuf *b, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);

	lb_add(b, num, (size_t)n);
}

static int lb_add_name(struct linebuf *b, const char *name)
{
	if (!strcmp(name, "?"))
		return -EINVAL;
	lb_add(b, name, strlen(name));
	return 0;
}

int journal_format_line(const struct journal_record *r, char **line, size_t *len)
{
	struct linebuf b = { 0 };
	const char *base = (const char *)r;
	char names[ACCESS_NAMES_SIZE];
	const char *text;
	size_t i;
	int err = 0;

	*line = NULL;
	*len = 0;
	for (i = 0; i < JOURNAL_FIELDS && !err; i++) {
		const void *p = base + fields[i].offset;

		if (i)
			lb_add(&b, "\t", 1);
		switch (fields[i].kind) {
		case F_U64:
			lb_add_u64(&b, *(const uint64_t *)p);
			break;
		case F_U32:
			lb_add_u64(&b, *(const uint32_t *)p);
			break;
		case F_ACTION:
			err = lb_add_name(&b, action_name(r->action));
			break;
		case F_VERDICT:
			err = lb_add_name(&b, verdict_name(r->verdict));
			break;
		case F_MODE:
			err = lb_add_name(&b, mode_name(r->mode));
			break;
		case F_REASON:
			err = lb_add_name(&b, reason_name(r->reason));
			break;
		case F_COMM:
			lb_add_escaped(&b, r->comm, strnlen(r->comm, ACTGATE_COMM_LEN));
			break;
		case F_TEXT:
			text = *(char *const *)p;
			if (text)
				lb_add_escaped(&b, text, strlen(text));
			break;
		case F_ACCESS:
			err = access_names(r->access, names, sizeof(names));
			lb_add(&b, names, strlen(names));
			break;
		case F_END:
			lb_add(&b, JOURNAL_END_MARK, strlen(JOURNAL_END_MARK));
			break;
		}
	}
	lb_add(&b, "\n", 2); /* and a NUL, not counted in len */
	if (!err)
		err = b.error;
	if (err) {
		free(b.p);
		return err;
	}
	*line = b.p;
	*len = b.len - 1;
	return 0;
}

static int parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo lb_add_escaped into dst (room for n + 1 bytes); the decoded length in *out_len. */
static int unescape(const char *s, size_t n, char *dst, size_t *out_len, const char **why)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			*why = "an unescaped control byte";
			return -EINVAL;
		}
		if (c != '\\') {
			dst[o++] = (char)c;
			continue;
		}
		if (++i == n) {
			*why = "a lone '\\' at its end";
			return -EINVAL;
		}
		switch (s[i]) {
		case '\\':
			dst[o++] = '\\';
			break;
		case 't':
			dst[o++] = '\t';
			break;
		case 'n':
			dst[o++] = '\n';
			break;
		case 'r':
			dst[o++] = '\r';
			break;
		case 'x':
			hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
			lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				*why = "\\x without two hex digits";
				return -EINVAL;
			}
			/* Text fields are C strings: a NUL would cut them silently. */
			if (hi == 0 && lo == 0) {
				*why = "an escaped NUL byte";
				return -EINVAL;
			}
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
			break;
		default:
			*why = "an unknown escape";
			return -EINVAL;
		}
	}
	dst[o] = '\0';
	*out_len = o;
	return 0;
}

static int parse_field(const struct field *f, const char *s, size_t n, struct journal_record *rec,
		       char *why, size_t why_size)
{
	char *base = (char *)rec, *text = NULL, name[32];
	const char *problem = NULL;
	uint64_t v;
	uint8_t e;
	size_t tlen;
	int err;

	switch (f->kind) {
	case F_U64:
	case F_U32:
		if (parse_uint(s, n, f->kind == F_U64 ? UINT64_MAX : UINT32_MAX, &v)) {
			problem = "not a decimal number in range";
			break;
		}
		if (f->kind == F_U64)
			*(uint64_t *)(base + f->offset) = v;
		else
			*(uint32_t *)(base + f->offset) = (uint32_t)v;
		break;
	case F_ACTION:
	case F_VERDICT:
	case F_MODE:
	case F_REASON:
		if (n >= sizeof(name)) {
			problem = "unknown name";
			break;
		}
		memcpy(name, s, n);
		name[n] = '\0';
		err = f->kind == F_ACTION    ? action_from_name(name, &e)
		      : f->kind == F_VERDICT ? verdict_from_name(name, &e)
		      : f->kind == F_MODE    ? mode_from_name(name, &e)
					     : reason_from_name(name, &e);
		if (err) {
			problem = "unknown name";
			break;
		}
		*(uint8_t *)(base + f->offset) = e;
		break;
	case F_COMM:
	case F_TEXT:
		text = malloc(n + 1);
		if (!text)
			return -ENOMEM;
		if (unescape(s, n, text, &tlen, &problem))
			break;
		if (f->kind == F_COMM) {
			if (tlen > ACTGATE_COMM_LEN) {
				problem = "longer than 16 bytes";
				break;
			}
			memcpy(rec->comm, text, tlen + 1);
			break;
		}
		*(char **)(base + f->offset) = text;
		text = NULL;
		break;
	case F_ACCESS:
		if (n >= sizeof(name)) {
			problem = "unknown access name";
			break;
		}
		memcpy(name, s, n);
		name[n] = '\0';
		if (access_from_names(name, &e)) {
			problem = "unknown access name";
			break;
		}
		*(uint8_t *)(base + f->offset) = e;
		break;
	case F_END:
		if (n != strlen(JOURNAL_END_MARK) || memcmp(s, JOURNAL_END_MARK, n))
			problem = "not the end mark \"" JOURNAL_END_MARK "\"";
		break;
	}
	free(text);
	if (problem) {
		snprintf(why, why_size, "field %s: %s", f->name, problem);
		return -EINVAL;
	}
	return 0;
}

int journal_parse_line(const char *line, size_t len, struct journal_record *rec, char *why,
		       size_t why_size)
{
	const char *start[JOURNAL_FIELDS + 1];
	const struct field *layout[JOURNAL_FIELDS];
	size_t count = 1, i, end;
	int err = 0;

	start[0] = line;
	for (i = 0; i < len; i++) {
		if (line[i] != '\t')
			continue;
		if (count == JOURNAL_FIELDS) {
			count++;
			break;
		}
		start[count++] = line + i + 1;
	}
	if (count == JOURNAL_FIELDS) {
		for (i = 0; i < count; i++)
			layout[i] = &fields[i];
	} else if (count == JOURNAL_FIELDS_WITHOUT_ACCESS) {
		/* Written before the access field: the record has no accesses. */
		for (i = 0; i < count; i++)
			layout[i] = fields_without_access[i];
	} else {
		if (count > JOURNAL_FIELDS)
			snprintf(why, why_size, "more than %d tab-separated fields", JOURNAL_FIELDS);
		else
			snprintf(why, why_size, "%zu tab-separated fields, expected %d (or %d)", count,
				 JOURNAL_FIELDS, JOURNAL_FIELDS_WITHOUT_ACCESS);
		return -EINVAL;
	}
	for (i = 0; i < count && !err; i++) {
		end = i + 1 < count ? (size_t)(start[i + 1] - line) - 1 : len;
		err = parse_field(layout[i], start[i], end - (size_t)(start[i] - line), rec, why,
				  why_size);
	}
	if (err)
		journal_record_clear(rec);
	return err;
}

/* ---- writer ---- */

static const char magic_line[] = JOURNAL_MAGIC_LINE "\n";
#define MAGIC_LEN (sizeof(magic_line) - 1)

/*
 * Write all of buf. One write(2) in the normal case; if the file system
 * takes only part of it, try the rest (to finish, or to learn the errno) and
 * on failure cut the partial line off again so the next line starts clean.
 */
static int write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;
	off_t end;
	int err;

	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			end = done ? lseek(fd, 0, SEEK_END) : -1;
			if (end >= (off_t)done && ftruncate(fd, end - (off_t)done) < 0) {
				/* The partial line stays; readers skip it, as it has no end mark. */
			}
			return err;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Why head (the first n bytes, up to MAGIC_LEN) is not a journal's first line. */
static void describe_head(const char *head, size_t n, char *why, size_t why_size)
{
	char shown[64];
	size_t i, o = 0;

	for (i = 0; i < n && head[i] != '\n' && o + 5 < sizeof(shown); i++) {
		unsigned char c = (unsigned char)head[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			shown[o++] = (char)c;
		else
			o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x", c);
	}
	shown[o] = '\0';
	if (!strncmp(shown, "#actgate-journal ", 17))
		snprintf(why, why_size,
			 "unsupported journal version \"%s\" (this actgate reads version 0)",
			 shown + 17);
	else
		snprintf(why, why_size,
			 "not an actgate journal (its first line is not \"" JOURNAL_MAGIC_LINE "\")");
}

enum head_state {
	HEAD_JOURNAL,  /* the magic line */
	HEAD_EMPTY,    /* nothing, or a prefix of the magic line cut by a crash */
	HEAD_FOREIGN,  /* anything else */
};

static enum head_state classify_head(const char *head, size_t n, bool at_eof)
{
	if (n == MAGIC_LEN && !memcmp(head, magic_line, MAGIC_LEN))
		return HEAD_JOURNAL;
	if (n < MAGIC_LEN && at_eof && !memcmp(head, magic_line, n))
		return HEAD_EMPTY;
	return HEAD_FOREIGN;
}

/* Make fd ready to take a record: magic line in a new file, '\n' after a torn tail. */
static int prepare_for_append(int fd, const char *path)
{
	char head[MAGIC_LEN], why[160], last;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "actgate: journal: %s: not a regular file\n", path);
		return -EINVAL;
	}
	if (st.st_size > 0) {
		n = pread(fd, head, MAGIC_LEN, 0);
		if (n < 0)
			return -errno;
		switch (classify_head(head, (size_t)n, n == st.st_size)) {
		case HEAD_JOURNAL:
			break;
		case HEAD_EMPTY:
			if (ftruncate(fd, 0) < 0)
				return -errno;
			st.st_size = 0;
			break;
		case HEAD_FOREIGN:
			describe_head(head, (size_t)n, why, sizeof(why));
			fprintf(stderr, "actgate: journal: %s: %s\n", path, why);
			return -EINVAL;
		}
	}
	if (st.st_size == 0)
		return write_all(fd, magic_line, MAGIC_LEN);
	n = pread(fd, &last, 1, st.st_size - 1);
	if (n < 0)
		return -errno;
	/* A crash cut the last line short: end it, so the next record stands alone. */
	if (n == 1 && last != '\n')
		return write_all(fd, "\n", 1);
	return 0;
}

int journal_writer_open(struct journal_writer *w, const char *dir)
{
	char *path = NULL;
	FILE *file = NULL;
	int fd = -1, err;

	memset(w, 0, sizeof(*w));
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	if (asprintf(&path, "%s/%s", dir, JOURNAL_FILE_NAME) < 0)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = prepare_for_append(fd, path);
	if (err)
		goto out;
	/* The FILE is for callers that want one; appends bypass its buffer (write_all). */
	file = fdopen(fd, "a");
	if (!file) {
		err = -errno;
		goto out;
	}
	fd = -1;
	w->file = file;
	w->path = path;
	path = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return err;
}

int journal_append_deferred(struct journal_writer *w, const struct journal_record *r)
{
	char *line = NULL;
	size_t len;
	int err;

	if (!w->file)
		return -EBADF;
	err = journal_format_line(r, &line, &len);
	if (err)
		return err;
	if (w->pending_len + len > w->pending_cap) {
		size_t cap = w->pending_cap ? w->pending_cap : 64 * 1024;
		char *bigger;

		while (cap < w->pending_len + len)
			cap *= 2;
		bigger = realloc(w->pending, cap);
		if (!bigger) {
			free(line);
			return -ENOMEM;
		}
		w->pending = bigger;
		w->pending_cap = cap;
	}
	memcpy(w->pending + w->pending_len, line, len);
	w->pending_len += len;
	w->pending_records++;
	free(line);
	return 0;
}

int journal_flush(struct journal_writer *w, size_t *lost)
{
	int err = 0;

	*lost = 0;
	if (!w->pending_len)
		return 0;
	if (!w->file)
		err = -EBADF;
	else
		err = write_all(fileno(w->file), w->pending, w->pending_len);
	if (err)
		*lost = w->pending_records;
	w->pending_len = 0;
	w->pending_records = 0;
	return err;
}

/* Queued lines go out with this one, in the same write. */
int journal_append(struct journal_writer *w, const struct journal_record *r)
{
	size_t lost;
	int err = journal_append_deferred(w, r);

	return err ? err : journal_flush(w, &lost);
}

void journal_writer_close(struct journal_writer *w)
{
	size_t lost;

	journal_flush(w, &lost);
	if (w->file)
		fclose(w->file);
	free(w->path);
	free(w->pending);
	memset(w, 0, sizeof(*w));
}

/* ---- reader ---- */

static void reader_say(const struct journal_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reader_say(const struct journal_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->err)
		return;
	fprintf(r->err, "%s: ", r->prefix);
	va_start(ap, fmt);
	vfprintf(r->err, fmt, ap);
	va_end(ap);
	fputc('\n', r->err);
}

int journal_reader_open_err(struct journal_reader *r, const char *path, FILE *err_stream,
			    const char *prefix)
{
	char head[MAGIC_LEN], why[160];
	struct stat st;
	size_t n;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->err = err_stream;
	r->prefix = prefix ? prefix : "actgate: journal";
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (asprintf(&r->path, "%s/%s", path, JOURNAL_FILE_NAME) < 0)
			r->path = NULL;
	} else {
		r->path = strdup(path);
	}
	if (!r->path) {
		err = -ENOMEM;
		reader_say(r, "%s: %s", path, strerror(-err));
		goto out;
	}
	r->file = fopen(r->path, "re");
	if (!r->file) {
		err = -errno;
		reader_say(r, "%s: %s", r->path, strerror(-err));
		goto out;
	}
	/* Read only the first line's worth: a large foreign file may hold no '\n' at all. */
	errno = 0;
	n = fread(head, 1, MAGIC_LEN, r->file);
	if (ferror(r->file)) {
		err = errno ? -errno : -EIO;
		reader_say(r, "%s: %s", r->path, strerror(-err));
		goto out;
	}
	if (classify_head(head, n, feof(r->file)) == HEAD_FOREIGN) {
		describe_head(head, n, why, sizeof(why));
		reader_say(r, "%s: %s", r->path, why);
		err = -EINVAL;
		goto out;
	}
	r->line_no = 1;
out:
	if (err)
		journal_reader_close(r);
	return err;
}

int journal_reader_open(struct journal_reader *r, const char *path)
{
	return journal_reader_open_err(r, path, stderr, NULL);
}

int journal_read(struct journal_reader *r, struct journal_record *rec)
{
	struct journal_record next = { 0 };
	char why[160];
	ssize_t n;
	int err;

	if (!r->file)
		return 0;
	for (;;) {
		errno = 0;
		n = getline(&r->line, &r->line_cap, r->file);
		if (n < 0) {
			if (!ferror(r->file))
				return 0;
			err = errno ? -errno : -EIO;
			reader_say(r, "%s: %s", r->path, strerror(-err));
			return err;
		}
		r->line_no++;
		if (r->line[n - 1] != '\n') {
			r->skipped++;
			reader_say(r, "%s:%lu: skipped a torn last line (no newline: its write was cut "
				      "short)", r->path, r->line_no);
			continue;
		}
		err = journal_parse_line(r->line, (size_t)n - 1, &next, why, sizeof(why));
		if (err == -ENOMEM) {
			reader_say(r, "%s: %s", r->path, strerror(ENOMEM));
			return err;
		}
		if (err) {
			r->skipped++;
			reader_say(r, "%s:%lu: skipped a malformed line: %s", r->path, r->line_no, why);
			continue;
		}
		journal_record_clear(rec);
		*rec = next;
		return 1;
	}
}

void journal_reader_close(struct journal_reader *r)
{
	if (r->file)
		fclose(r->file);
	free(r->path);
	free(r->line);
	memset(r, 0, sizeof(*r));
}
