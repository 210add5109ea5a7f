/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The syslog sink against Debian's rsyslogd (tests/unit/rsyslog-peer.sh):
 * RFC 5424 as rsyslog parses it (version 1, PRI, APP-NAME, MSGID,
 * structured data with the record's number), over a unix stream socket, a
 * unix datagram socket, TCP and TLS, octet-counted where it is a stream. Over
 * TCP the follower is killed mid-stream: at least once, and deduplicated by
 * the record number every decision is there once, in order. TLS with a CA
 * that did not sign the server's certificate sends nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "test_journal.h"
#include "test_export.h"

static struct {
	char dir[64];
	int tcp, tls;
	pid_t pid;
} peer;

static int start_peer(void **state)
{
	char cmd[256];
	FILE *p;

	(void)state;
	strcpy(peer.dir, "/tmp/actgate-test-rsyslog-XXXXXX");
	if (!mkdtemp(peer.dir))
		return -1;
	/* High ports of this run's own, apart from a parallel run's. */
	peer.tcp = 20000 + (int)(getpid() % 20000) * 2;
	peer.tls = peer.tcp + 1;
	snprintf(cmd, sizeof(cmd), "tests/unit/rsyslog-peer.sh %s %d %d", peer.dir, peer.tcp,
		 peer.tls);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%d", &peer.pid) != 1) {
		fprintf(stderr, "rsyslog did not start\n");
		if (p)
			pclose(p);
		return -1;
	}
	pclose(p);
	return 0;
}

static int stop_peer(void **state)
{
	(void)state;
	if (peer.pid > 0)
		kill(peer.pid, SIGTERM);
	for (int i = 0; i < 100 && peer.pid > 0 && !kill(peer.pid, 0); i++)
		poll(NULL, 0, 20);
	if (!getenv("KEEP_PEER")) remove_tree(peer.dir);
	return 0;
}

static void sink_config(struct fixture *fx, struct jexport_config *c, const char *sink,
			char *cursor)
{
	snprintf(cursor, 128, "%s/export.cursor", fx->keydir);
	jexport_config_init(c);
	c->journal_dir = fx->dir;
	c->cursor_path = cursor;
	c->sink = sink;
	c->poll_ms = 10;
	c->batch_max = 32;
	c->follow = false;
}

/* n decisions journaled, exported once to sink, and rsyslog's file checked. */
static void export_and_check(struct fixture *fx, const char *sink, const char *file, uint32_t n)
{
	char cursor[128], path[128], *text, *first_nl;
	struct jexport_config c;
	struct received r;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key };
	struct jsink *s;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	append_range(s, 0, n, 50, 0);
	assert_int_equal(jsink_close(s), 0);
	sink_config(fx, &c, sink, cursor);
	assert_int_equal(jexport_run(&c), 0);
	snprintf(path, sizeof(path), "%s/%s", peer.dir, file);
	text = wait_lines(path, n);
	assert_non_null(text);
	r = check_lines(text, false, "\"pid\":", "seq=\"");
	assert_int_equal(r.decisions, n);
	assert_true(r.in_order);
	/* What rsyslog parsed: RFC 5424, facility 13, APP-NAME, MSGID, SD with the number. */
	first_nl = strchr(text, '\n');
	*first_nl = '\0';
	assert_true(!strncmp(text, "1 110 ", 6)); /* decision 0 is allowed: 13 * 8 + 6 */
	assert_non_null(strstr(text, " actgate decision [actgate@32473 seq=\""));
	assert_non_null(strstr(text, "] {\"time\":\"2026-11-28T13:14:17.000Z\""));
	*first_nl = '\n';
	/* Decision 1 is denied: warning. */
	assert_non_null(strstr(text, "\n1 108 "));
	free(text);
}

static void test_syslog_unix_stream(void **state)
{
	char sink[160];

	snprintf(sink, sizeof(sink), "syslog+unix:%s/stream.sock", peer.dir);
	export_and_check(*state, sink, "unix.log", 500);
}

static void test_syslog_unix_datagram(void **state)
{
	char sink[160];

	snprintf(sink, sizeof(sink), "syslog+unix:%s/dgram.sock", peer.dir);
	export_and_check(*state, sink, "dgram.log", 500);
}

static void test_syslog_tls(void **state)
{
	char sink[200];

	snprintf(sink, sizeof(sink), "syslog+tls://localhost:%d?ca=%s/ca.pem", peer.tls, peer.dir);
	export_and_check(*state, sink, "tls.log", 500);
}

/* A CA that did not sign the server's certificate: the handshake fails, nothing is sent. */
static void test_syslog_tls_wrong_ca(void **state)
{
	struct fixture *fx = *state;
	char sink[200], cursor[128], why[256];
	struct jexport_config c;
	struct jexport_cursor cur;

	write_with_sink(fx, 10);
	snprintf(sink, sizeof(sink), "syslog+tls://localhost:%d?ca=/etc/ssl/certs/ca-certificates.crt",
		 peer.tls);
	sink_config(fx, &c, sink, cursor);
	c.err = stderr;
	assert_int_equal(jexport_run(&c), -EIO);
	assert_int_equal(jexport_cursor_load(cursor, &cur, why, sizeof(why)), -ENOENT);
	/* And without a CA at all the sink is refused before anything. */
	c.sink = "syslog+tls://localhost:1";
	assert_int_equal(jexport_run(&c), -EINVAL);
}

/*
 * A batch on a stream is accepted only once the receiver took it: a unix
 * stream receiver that has not read yet leaves the cursor unmoved (the
 * kernel holding the bytes is not enough), and once it reads, the batch is
 * accepted.
 */
static void test_syslog_accepted_when_read(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char sink[160], cursor[128], why[256];
	static char buf[1 << 20];
	struct jexport_config c;
	struct jexport_cursor cur;
	size_t got = 0, messages = 0;
	int lfd, cfd, status;
	pid_t child;

	write_with_sink(fx, 20);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/slow.sock", fx->keydir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	snprintf(sink, sizeof(sink), "syslog+unix:%s", a.sun_path);
	sink_config(fx, &c, sink, cursor);
	child = start_follower(&c);
	/* Connected (in the backlog) and sent, not read: no acceptance however long it waits. */
	poll(NULL, 0, 300);
	assert_int_equal(jexport_cursor_load(cursor, &cur, why, sizeof(why)), -ENOENT);
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cfd >= 0);
	/* Read until the follower, caught up, hangs up. */
	for (ssize_t n; got < sizeof(buf) - 1 && (n = read(cfd, buf + got, sizeof(buf) - 1 - got)) > 0;)
		got += (size_t)n;
	buf[got] = '\0';
	for (const char *p = buf; (p = strstr(p, " decision [actgate@32473 seq=")); p++)
		messages++;
	status = wait_status(child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(got > 0);
	assert_int_equal(messages, 20);
	assert_int_equal(jexport_cursor_load(cursor, &cur, why, sizeof(why)), 0);
	assert_int_equal(cur.exported, 20);
	close(cfd);
	close(lfd);
}

#define STREAM 2000

/* Killed ten times mid-stream over TCP: deduplicated by number, every decision once, in order. */
static void test_syslog_tcp_killed(void **state)
{
	struct fixture *fx = *state;
	char sink[160], cursor[128], path[128], *text;
	struct jexport_config c;
	struct received r;

	snprintf(sink, sizeof(sink), "syslog+tcp://127.0.0.1:%d", peer.tcp);
	sink_config(fx, &c, sink, cursor);
	c.follow = true;
	assert_true(stream_with_kills(fx, &c, STREAM, 10) >= 2);
	snprintf(path, sizeof(path), "%s/tcp.log", peer.dir);
	text = wait_lines(path, STREAM);
	assert_non_null(text);
	r = check_lines(text, true, "\"pid\":", "seq=\"");
	assert_int_equal(r.decisions, STREAM);
	assert_true(r.in_order);
	assert_int_equal(r.lines, r.decisions + r.duplicates);
	if (r.duplicates)
		fprintf(stderr, "syslog over TCP: %zu duplicates after 10 kills (at least once)\n",
			r.duplicates);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syslog_unix_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_unix_datagram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_tls_wrong_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_accepted_when_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syslog_tcp_killed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, start_peer, stop_peer);
}
