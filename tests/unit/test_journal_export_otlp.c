/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The OTLP/HTTP sink against a receiver held to the OTLP JSON encoding
 * (tests/unit/otlp-receiver.py): resource attributes, retries with backoff
 * while the receiver answers 503, the bounded queue's overflow counted
 * (block: reading stops; drop: the oldest go, said by a gap event), and ten
 * SIGKILLs mid-stream: deduplicated by actgate.seq, every decision once, in
 * order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <curl/curl.h>

#include "test_journal.h"
#include "test_export.h"

static struct {
	char dir[64], out[128], refuse[128], sink[128];
	pid_t pid;
} rx;

static int start_receiver(void **state)
{
	char portfile[128], *port;

	(void)state;
	strcpy(rx.dir, "/tmp/actgate-test-otlp-XXXXXX");
	if (!mkdtemp(rx.dir))
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", rx.dir);
	snprintf(rx.out, sizeof(rx.out), "%s/logs", rx.dir);
	snprintf(rx.refuse, sizeof(rx.refuse), "%s/refuse", rx.dir);
	rx.pid = fork();
	if (rx.pid < 0)
		return -1;
	if (rx.pid == 0) {
		execlp("python3", "python3", "tests/unit/otlp-receiver.py", portfile, rx.out,
		       rx.refuse, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !(port = slurp(portfile, NULL)); i++)
		poll(NULL, 0, 25);
	if (!port) {
		fprintf(stderr, "the OTLP receiver did not start\n");
		return -1;
	}
	snprintf(rx.sink, sizeof(rx.sink), "otlp+http://127.0.0.1:%d/v1/logs", atoi(port));
	free(port);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int stop_receiver(void **state)
{
	(void)state;
	if (rx.pid > 0) {
		kill(rx.pid, SIGTERM);
		waitpid(rx.pid, NULL, 0);
	}
	remove_tree(rx.dir);
	return 0;
}

static int setup_otlp(void **state)
{
	unlink(rx.out);
	unlink(rx.refuse);
	return setup(state);
}

static void otlp_config(struct fixture *fx, struct jexport_config *c, char *cursor)
{
	snprintf(cursor, 128, "%s/export.cursor", fx->keydir);
	jexport_config_init(c);
	c->journal_dir = fx->dir;
	c->cursor_path = cursor;
	c->sink = rx.sink;
	c->poll_ms = 10;
	c->batch_max = 32;
	c->backoff_min_ms = 10;
	c->backoff_max_ms = 40;
}

static void journal(struct fixture *fx, uint32_t n)
{
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key };
	struct jsink *s;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	append_range(s, 0, n, 50, 0);
	assert_int_equal(jsink_close(s), 0);
}

static void refuse(bool on)
{
	if (on) {
		FILE *f = fopen(rx.refuse, "we");

		assert_non_null(f);
		fclose(f);
	} else {
		assert_int_equal(unlink(rx.refuse), 0);
	}
}

struct runner {
	struct jexport_config c;
	struct jexport_status st;
	volatile int stop;
	pthread_t thread;
	int ret;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->ret = jexport_run(&r->c);
	return NULL;
}

static uint64_t status_get(struct runner *r, size_t offset)
{
	uint64_t v;

	pthread_mutex_lock(&r->st.lock);
	v = *(uint64_t *)((char *)&r->st + offset);
	pthread_mutex_unlock(&r->st.lock);
	return v;
}

/* Wait (bounded: a stuck follower fails, time is never measured) for a status counter. */
static bool wait_status_at_least(struct runner *r, size_t offset, uint64_t min)
{
	for (int i = 0; i < 800; i++) {
		if (status_get(r, offset) >= min)
			return true;
		poll(NULL, 0, 25);
	}
	return false;
}

static void start_runner(struct runner *r)
{
	jexport_status_init(&r->st);
	r->c.status = &r->st;
	r->c.stop = &r->stop;
	r->c.follow = true;
	assert_int_equal(pthread_create(&r->thread, NULL, run_thread, r), 0);
}

static void stop_runner(struct runner *r)
{
	r->stop = 1;
	pthread_join(r->thread, NULL);
	assert_int_equal(r->ret, 0);
}

/* Refused (503) while the file is there: retried with backoff, then everything once. */
static void test_otlp_retries(void **state)
{
	struct fixture *fx = *state;
	struct runner r = { 0 };
	char cursor[128], host[400], *text, *errors;
	struct jocsf_host h;
	char why[256];
	struct received got;

	journal(fx, 1000);
	otlp_config(fx, &r.c, cursor);
	refuse(true);
	start_runner(&r);
	assert_true(wait_status_at_least(&r, offsetof(struct jexport_status, send_errors), 3));
	refuse(false);
	assert_true(wait_status_at_least(&r, offsetof(struct jexport_status, exported), 1000));
	stop_runner(&r);
	assert_true(r.st.retries >= 3);
	assert_string_equal(r.st.last_error, "");
	text = slurp(rx.out, NULL);
	assert_non_null(text);
	got = check_lines(text, false, "\"pid\":", "seq=");
	assert_int_equal(got.decisions, 1000);
	assert_int_equal(got.lines, 1000);
	assert_true(got.in_order);
	/* The resource: service and host. */
	jocsf_host_read(&h, why, sizeof(why));
	snprintf(host, sizeof(host), "service.name=actgate host.name=%s host.id=%s seq=",
		 h.hostname, h.machine_id);
	assert_true(!strncmp(text, host, strlen(host)));
	assert_non_null(strstr(text, " sev=13 {")); /* a denied decision: WARN */
	errors = slurp(strcat(strcpy(host, rx.out), ".errors"), NULL);
	assert_null(errors); /* the receiver found nothing to refuse in the encoding */
	free(text);
}

/* Overflow "block": reading stops at a full queue (counted); nothing is lost. */
static void test_otlp_queue_block(void **state)
{
	struct fixture *fx = *state;
	struct runner r = { 0 };
	char cursor[128], *text;
	struct received got;

	journal(fx, 1000);
	otlp_config(fx, &r.c, cursor);
	r.c.queue_max = 64;
	refuse(true);
	start_runner(&r);
	assert_true(wait_status_at_least(&r, offsetof(struct jexport_status, queue_full), 1));
	assert_true(status_get(&r, offsetof(struct jexport_status, queued)) <= 64);
	refuse(false);
	assert_true(wait_status_at_least(&r, offsetof(struct jexport_status, exported), 1000));
	stop_runner(&r);
	assert_int_equal(r.st.dropped, 0);
	text = slurp(rx.out, NULL);
	got = check_lines(text, false, "\"pid\":", "seq=");
	assert_int_equal(got.decisions, 1000);
	assert_true(got.in_order);
	assert_int_equal(got.gaps, 0);
	free(text);
}

/* Overflow "drop": the oldest queued go, counted, and a gap event says which. */
static void test_otlp_queue_drop(void **state)
{
	struct fixture *fx = *state;
	struct runner r = { 0 };
	char cursor[128], *text;
	struct received got;
	uint64_t dropped;

	journal(fx, 1000);
	otlp_config(fx, &r.c, cursor);
	r.c.queue_max = 64;
	r.c.overflow = JEXPORT_OVERFLOW_DROP;
	refuse(true);
	start_runner(&r);
	/* Read to the end while refused: everything but the last queue's worth dropped. */
	assert_true(wait_status_at_least(&r, offsetof(struct jexport_status, read_seq), 1000));
	refuse(false);
	assert_true(wait_status_at_least(&r, offsetof(struct jexport_status, gaps), 1));
	stop_runner(&r);
	dropped = r.st.dropped;
	assert_true(dropped >= 1000 - 64);
	text = slurp(rx.out, NULL);
	got = check_lines(text, false, "\"pid\":", "seq=");
	assert_int_equal(got.gaps, 1);
	assert_int_equal(got.decisions + dropped, 1000);
	assert_int_equal(got.next_pid, 1000); /* the newest are there */
	assert_non_null(strstr(text, "\"reason\":\"export-queue-overflow\""));
	free(text);
}

#define STREAM 2000

static void test_otlp_killed(void **state)
{
	struct fixture *fx = *state;
	struct jexport_config c;
	char cursor[128], *text;
	struct received got;

	otlp_config(fx, &c, cursor);
	c.follow = true;
	assert_true(stream_with_kills(fx, &c, STREAM, 10) >= 2);
	text = slurp(rx.out, NULL);
	got = check_lines(text, true, "\"pid\":", "seq=");
	assert_int_equal(got.decisions, STREAM);
	assert_true(got.in_order);
	assert_int_equal(got.lines, got.decisions + got.duplicates);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_otlp_retries, setup_otlp, teardown),
		cmocka_unit_test_setup_teardown(test_otlp_queue_block, setup_otlp, teardown),
		cmocka_unit_test_setup_teardown(test_otlp_queue_drop, setup_otlp, teardown),
		cmocka_unit_test_setup_teardown(test_otlp_killed, setup_otlp, teardown),
	};

	return cmocka_run_group_tests(tests, start_receiver, stop_receiver);
}
