/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Following rule paths on a real file system (a temporary directory):
 * which changes are seen as events, and which make a rule's path resolve
 * differently.
 */
#include <linux/types.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_tree.h"

#include "daemon/pathwatch.h"
#include "policy/compile.h"
#include "policy/parse.h"
#include "policy/policy.h"

struct fixture {
	char root[64];
	struct policy_set set;
	struct policy_image img;
	struct pathwatch pw;
};

static void at(const struct fixture *f, const char *rel, char *out)
{
	snprintf(out, PATH_MAX, "%s/%s", f->root, rel);
}

static void write_file(const struct fixture *f, const char *rel)
{
	char path[PATH_MAX];
	FILE *fp;

	at(f, rel, path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("x\n", fp);
	fclose(fp);
}

static void make_dir(const struct fixture *f, const char *rel)
{
	char path[PATH_MAX];

	at(f, rel, path);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void rename_rel(const struct fixture *f, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	at(f, from, a);
	at(f, to, b);
	assert_int_equal(rename(a, b), 0);
}

/* A policy with an exact rule, a subtree rule, a rule through a symlink and one on a missing path. */
static void compile(struct fixture *f)
{
	struct diag_list diags = { 0 };
	char *text = NULL;
	int n = asprintf(&text,
			 "apiVersion: actgate.dev/v1\n"
			 "kind: Policy\n"
			 "metadata: {name: p}\n"
			 "spec:\n"
			 "  selector: {workloads: [\"*\"]}\n"
			 "  open: {default: allow, deny: [%s/etc/secret, %s/data/, %s/link/f, "
			 "%s/later/file, %s/flink]}\n",
			 f->root, f->root, f->root, f->root, f->root);

	assert_true(n > 0);
	policy_set_free(&f->set);
	policy_image_free(&f->img);
	assert_int_equal(policy_parse_buffer("p.yaml", text, (size_t)n, &f->set, &diags), 0);
	assert_int_equal(policy_compile(&f->set, 1, resolve_path_stat, NULL, &f->img, &diags), 0);
	diag_list_free(&diags);
	free(text);
	assert_int_equal(pathwatch_set(&f->pw, &f->img), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[PATH_MAX];

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/actgate-pathwatch-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	make_dir(f, "etc");
	write_file(f, "etc/secret");
	write_file(f, "etc/other");
	make_dir(f, "data");
	make_dir(f, "a");
	make_dir(f, "b");
	write_file(f, "a/f");
	write_file(f, "b/f");
	at(f, "link", path);
	assert_int_equal(symlink("a", path), 0);
	make_dir(f, "c");
	write_file(f, "c/g");
	at(f, "flink", path);
	assert_int_equal(symlink("c/g", path), 0);
	assert_int_equal(pathwatch_open(&f->pw), 0);
	compile(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pathwatch_close(&f->pw);
	policy_image_free(&f->img);
	policy_set_free(&f->set);
	remove_tree(f->root);
	free(f);
	return 0;
}

static void assert_stale(const struct fixture *f, const char *rel)
{
	char changed[PATH_MAX], want[PATH_MAX];

	at(f, rel, want);
	assert_int_equal(pathwatch_stale(&f->pw, changed, sizeof(changed)), 1);
	assert_string_equal(changed, want);
}

static void assert_fresh(const struct fixture *f)
{
	char changed[PATH_MAX];

	assert_int_equal(pathwatch_stale(&f->pw, changed, sizeof(changed)), 0);
}

static void test_quiet_changes(void **state)
{
	struct fixture *f = *state;

	assert_fresh(f);
	assert_int_equal(pathwatch_read_events(&f->pw), 0);
	/* Names no rule's way passes through, and content changes, are not events. */
	write_file(f, "etc/unrelated");
	write_file(f, "etc/secret");
	write_file(f, "a/g");
	assert_int_equal(pathwatch_read_events(&f->pw), 0);
	assert_fresh(f);
}

static void test_replaced_file(void **state)
{
	struct fixture *f = *state;

	/* How editors, package managers and passwd write a file: a new one renamed over it. */
	write_file(f, "etc/secret.new");
	assert_int_equal(pathwatch_read_events(&f->pw), 0);
	rename_rel(f, "etc/secret.new", "etc/secret");
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_stale(f, "etc/secret");
	compile(f);
	assert_fresh(f);
}

static void test_renamed_directory(void **state)
{
	struct fixture *f = *state;

	rename_rel(f, "data", "data.old");
	make_dir(f, "data");
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_stale(f, "data");
	/* A rename of a directory above every rule is seen too. */
	compile(f);
	rename_rel(f, "etc", "etc2");
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_stale(f, "etc/secret");
}

static void test_symlink_retargeted(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	at(f, "link", path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("b", path), 0);
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_stale(f, "link/f");
	compile(f);
	/* The target's directory is watched too: replacing b/f is seen. */
	write_file(f, "b/f.new");
	rename_rel(f, "b/f.new", "b/f");
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_stale(f, "link/f");
}

static void test_symlinked_file(void **state)
{
	struct fixture *f = *state;

	/* flink -> c/g: the way through the link is watched, so replacing c/g is seen. */
	write_file(f, "c/g.new");
	rename_rel(f, "c/g.new", "c/g");
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_stale(f, "flink");
	compile(f);
	assert_fresh(f);
}

static void test_path_appears(void **state)
{
	struct fixture *f = *state;

	/* The missing directory appears: an event, but the rule's file is still missing. */
	make_dir(f, "later");
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_fresh(f);
	/* Watched again, the new directory is on the way: the file's creation is seen. */
	assert_int_equal(pathwatch_set(&f->pw, &f->img), 0);
	write_file(f, "later/file");
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_stale(f, "later/file");
}

static void test_removed_file(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	at(f, "etc/secret", path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pathwatch_read_events(&f->pw), 1);
	assert_stale(f, "etc/secret");
}

/* The kernel entries of img's effective policy for every workload, keyed by inode. */
static size_t entries_for(struct policy_image *img, const struct policy_set *set, uint64_t ino,
			  uint8_t *verdict)
{
	struct workload_identity id = { .name = "w" };
	struct policy_selection *sel = NULL;
	struct diag_list diags = { 0 };
	size_t count = 0, index, n = 0;
	bool added;

	assert_int_equal(policy_selection_of(set, &id, NULL, &sel, &count), 0);
	assert_int_equal(policy_image_effective(img, sel, count, &index, &added, &diags), 0);
	for (size_t i = 0; i < img->policies[index].path_count; i++) {
		const struct image_path_entry *e = &img->paths[img->policies[index].path_first + i];

		if (e->key.ino == ino) {
			n++;
			*verdict = e->value.slot[0].verdict;
		}
	}
	free(sel);
	diag_list_free(&diags);
	return n;
}

static uint64_t ino_of(const struct fixture *f, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	at(f, rel, path);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/*
 * Following never weakens a rule: after the files are shuffled, a deny rule
 * covers its path's new file and the one it named before; an allow rule
 * keeps its file, so a denied file renamed onto an allowed path stays denied.
 */
static void test_follow_keeps_denied_files(void **state)
{
	struct fixture *f = *state;
	struct diag_list diags = { 0 };
	struct policy_set set = { 0 };
	struct policy_image before = { 0 }, after = { 0 };
	uint64_t secret, pub, fresh;
	uint8_t verdict = 0xff;
	char *text = NULL;
	int n = asprintf(&text,
			 "apiVersion: actgate.dev/v1\n"
			 "kind: Policy\n"
			 "metadata: {name: p}\n"
			 "spec:\n"
			 "  selector: {workloads: [\"*\"]}\n"
			 "  open: {default: allow, deny: [%s/etc/secret, %s/data/], "
			 "allow: [%s/data/pub]}\n",
			 f->root, f->root, f->root);

	assert_true(n > 0);
	write_file(f, "data/pub");
	secret = ino_of(f, "etc/secret");
	pub = ino_of(f, "data/pub");
	assert_int_equal(policy_parse_buffer("p.yaml", text, (size_t)n, &set, &diags), 0);
	assert_int_equal(policy_compile(&set, 1, resolve_path_stat, NULL, &before, &diags), 0);

	/* The secret moves out of the way, a new file takes its name, and is moved onto pub. */
	rename_rel(f, "etc/secret", "etc/secret.old");
	write_file(f, "etc/secret");
	fresh = ino_of(f, "etc/secret");
	rename_rel(f, "etc/secret.old", "data/pub");
	assert_int_equal(policy_compile(&set, 2, resolve_path_stat, NULL, &after, &diags), 0);
	assert_int_equal(policy_image_follow(&after, &before), 0);

	assert_int_equal(entries_for(&after, &set, fresh, &verdict), 1);
	assert_int_equal(verdict, ACTGATE_VERDICT_DENY);
	/* The protected file, now at data/pub, is still denied. */
	assert_int_equal(entries_for(&after, &set, secret, &verdict), 1);
	assert_int_equal(verdict, ACTGATE_VERDICT_DENY);
	/* The allow rule still names the file it named (gone now), not the one moved there. */
	assert_int_equal(entries_for(&after, &set, pub, &verdict), 1);
	assert_int_equal(verdict, ACTGATE_VERDICT_ALLOW);

	/* Without following (a reload), the allow rule would name the moved secret. */
	policy_image_free(&after);
	assert_int_equal(policy_compile(&set, 3, resolve_path_stat, NULL, &after, &diags), 0);
	assert_int_equal(entries_for(&after, &set, secret, &verdict), 1);
	assert_int_equal(verdict, ACTGATE_VERDICT_ALLOW);
	/* Images of other policies do not follow each other. */
	assert_int_equal(policy_image_follow(&after, &f->img), -EINVAL);

	policy_image_free(&after);
	policy_image_free(&before);
	policy_set_free(&set);
	diag_list_free(&diags);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quiet_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaced_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renamed_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_retargeted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinked_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_appears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_keeps_denied_files, setup, teardown),
	};

	return cmocka_run_group_tests_name("pathwatch", tests, NULL, NULL);
}
