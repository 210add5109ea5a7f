/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate policy suggest: a policy from recorded decisions
 * (policy/suggest.h), checked against the same decisions before it is
 * written (cli/whatif.h), with the tightening it brings against the
 * policy in force and a policy test beside it (docs/policy-suggest.md).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/common.h"
#include "cli/suggest.h"
#include "cli/whatif.h"
#include "journal/query.h"
#include "journal/source.h"
#include "policy/diff.h"
#include "policy/evaluate.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/suggest.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/paths.h"

#define VERB "policy suggest"
#define MAX_SHOWN 10 /* misses listed one by one before "and N more" */

static void suggest_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate policy suggest --name NAME [OPTION]... [JOURNAL]...\n"
		"Write a policy that allows what the chosen workloads did, as recorded in the\n"
		"journal, and denies by default what they did not: the programs they ran, the\n"
		"files they opened by access (collapsed to directories as --level says, never\n"
		"above a floor), the addresses and unix sockets they connected to. Every rule\n"
		"is commented with the decisions it covers and one of them. Before writing,\n"
		"the suggestion decides the same decisions again: every action that was\n"
		"allowed or denied only in audit mode must be allowed, or nothing is written.\n"
		"Then it prints what the suggestion takes away from the policy in force (the\n"
		"tightening), and writes FILE (--output) and its policy test beside it\n"
		"(job.yaml -> job.test.yaml, one case per rule: docs/policy-tests.md).\n"
		"\n"
		"  -n, --name NAME         metadata.name of the suggested policy (required)\n"
		"  -o, --output FILE       write the policy here (FILE.yaml; its test beside it);\n"
		"                          without it, the policy goes to standard output and no\n"
		"                          test is written\n"
		"  -l, --level L           exact: each file by itself (directories only where\n"
		"                          files are created); balanced (default): also the\n"
		"                          job's workspaces, package directories and directories\n"
		"                          of %d or more files; coarse: one directory below the\n"
		"                          nearest floor\n"
		"      --selector SEL      spec.selector of the policy: a workload-name glob, or\n"
		"                          KEY=GLOB for a label (repeatable); default: the\n"
		"                          --workload glob, else the workload names seen, and\n"
		"                          the --label filters\n"
		"      --floor GLOB        also never allow this directory whole (repeatable;\n"
		"                          always: / /etc /home /home/* /root /usr /var /dev\n"
		"                          /sys /run)\n"
		"      --current DIR       the policies in force now [" DEFAULT_POLICY_DIR
		" when it\n"
		"                          exists]: what they deny under a directory the\n"
		"                          suggestion allows stays denied; --current '' for none\n"
		"  -j, --journal-dir DIR   journal directory [" DEFAULT_JOURNAL_DIR "]\n"
		"  -w, --workload GLOB     only workloads whose name matches GLOB\n"
		"      --label K=V         only workloads with this label (repeatable)\n"
		"      --since T           only decisions at or after T (as actgate replay)\n"
		"      --until T           only decisions before T\n"
		"  -h, --help              show this help\n"
		"\n"
		"Exit status: 0 when the suggestion passed its self-check (and was written); 1\n"
		"when it did not, when nothing was recorded or the journal cannot be read; 2 on\n"
		"usage errors.\n",
		SUGGEST_MIN_FILES);
}

struct strings {
	const char **v;
	size_t n;
};

static int push(struct strings *s, const char *value)
{
	const char **bigger = realloc(s->v, (s->n + 1) * sizeof(*bigger));

	if (!bigger)
		return -ENOMEM;
	s->v = bigger;
	s->v[s->n++] = value;
	return 0;
}

struct suggest_args {
	const char *name, *output, *journal_dir, *current_dir;
	bool current_given;
	struct suggest_options opt;
	struct jquery_filter filter;
	struct strings labels, selector_globs, selector_labels, floors;
	const char *const *paths;
	size_t n_paths;
};

static int open_source(const struct suggest_args *a, struct jsource **src)
{
	struct jsource_options so = { .err = stderr, .prefix = "actgate: " VERB,
				      .prefilter = &a->filter };

	return jsource_open(src, a->paths, a->n_paths, &so);
}

/* Read the chosen decisions into s. 0, or -errno (reported). */
static int collect(const struct suggest_args *a, struct suggest *s)
{
	struct jsource *src = NULL;
	struct journal_record rec;
	int ret = open_source(a, &src);

	if (ret)
		return ret;
	while ((ret = jsource_next(src, &rec)) > 0) {
		if (!jquery_match(&a->filter, &rec))
			continue;
		ret = suggest_add(s, &rec);
		if (ret < 0) {
			fprintf(stderr, "actgate: " VERB ": %s\n", strerror(-ret));
			break;
		}
	}
	jsource_close(src);
	return ret < 0 ? ret : 0;
}

struct check_totals {
	size_t needed;       /* allowed, or denied in audit mode */
	size_t covered;      /* ... and allowed by the suggestion */
	size_t missed;
	size_t enforced;     /* enforced denials recorded */
	size_t still_denied; /* ... that the suggestion denies too */
	size_t skipped;      /* not decided again: outside the policy language */
};

/*
 * The self-check: every recorded action that happened (allowed, or
 * denied only in audit mode) must be allowed by the suggestion; every
 * enforced denial is reported when the suggestion would allow it.
 */
static int self_check(const struct suggest_args *a, const struct policy_set *set,
		      struct check_totals *t)
{
	struct jsource *src = NULL;
	struct journal_record rec;
	size_t shown = 0;
	int ret = open_source(a, &src);

	memset(t, 0, sizeof(*t));
	if (ret)
		return ret;
	while ((ret = jsource_next(src, &rec)) > 0) {
		struct eval_result r;
		enum whatif_outcome w;
		char why[256];
		bool enforced = rec.verdict == ACTGATE_VERDICT_DENY && rec.mode == ACTGATE_MODE_ENFORCE;

		if (!jquery_match(&a->filter, &rec))
			continue;
		if (!enforced && !suggest_takes(&rec)) {
			t->skipped++;
			continue;
		}
		w = whatif_decide(set, &rec, &r, why, sizeof(why));
		if (w == WHATIF_SKIPPED) {
			if (enforced) {
				t->skipped++;
				continue;
			}
			r.verdict = ACTGATE_VERDICT_DENY;
			snprintf(r.rule, sizeof(r.rule), "(%.180s)", why);
		}
		if (enforced) {
			t->enforced++;
			if (r.verdict == ACTGATE_VERDICT_DENY)
				t->still_denied++;
			else
				printf("self-check: enforced denial now allowed: %s %s (by %s)\n",
				       action_name(rec.action), rec.target, r.rule);
			continue;
		}
		t->needed++;
		if (r.verdict == ACTGATE_VERDICT_ALLOW) {
			t->covered++;
			continue;
		}
		t->missed++;
		if (shown++ < MAX_SHOWN)
			printf("self-check: MISSED %s %s of %s: the suggestion denies it (%s)\n",
			       action_name(rec.action), rec.target, rec.workload, r.rule);
	}
	jsource_close(src);
	if (t->missed > MAX_SHOWN)
		printf("self-check: and %zu more missed\n", t->missed - MAX_SHOWN);
	return ret < 0 ? ret : 0;
}

/* The tightening: each current policy that selects a workload seen, against the suggestion. */
static int print_tightening(const struct policy_set *current, const struct policy *suggested,
			    const struct suggest_result *res)
{
	bool any = false;

	if (!current || !current->count) {
		printf("tightening: no policy in force was given (--current): everything the "
		       "suggestion denies is new\n");
		return 0;
	}
	for (size_t p = 0; p < current->count; p++) {
		const struct policy *cur = &current->policies[p];
		struct policy_diff d;
		bool selects = false;
		int err;

		for (size_t w = 0; w < res->workload_count && !selects; w++) {
			struct workload_identity id = { .name = res->workloads[w] };

			selects = policy_selects(cur, &id);
		}
		if (!selects)
			continue;
		any = true;
		err = policy_diff_policies(cur, suggested, &d);
		if (err)
			return err;
		printf("tightening against %s (%s): %zu narrowing, %zu widening, %zu other\n",
		       cur->name, cur->file, d.narrows, d.widens, d.other);
		for (size_t i = 0; i < d.count; i++) {
			const struct policy_change *c = &d.changes[i];

			if (c->old && c->new)
				printf("  %-7s %-22s %s -> %s\n", policy_change_name(c->kind), c->where,
				       c->old, c->new);
			else
				printf("  %-7s %-22s %s %s\n", policy_change_name(c->kind), c->where,
				       c->new ? "+" : "-", c->new ? c->new : c->old);
		}
		policy_diff_free(&d);
	}
	if (!any)
		printf("tightening: no policy given with --current selects these workloads\n");
	return 0;
}

/* ---- the policy test beside the policy ---- */

/* One case, decided by the evaluator under the suggestion: only a case it confirms is written. */
struct test_case {
	const char *name;
	uint8_t action;
	const char *target;   /* as the test writes it */
	uint8_t access;       /* open */
	uint8_t protocol;     /* IP connect */
};

static int write_case(FILE *out, const struct policy_set *set, const char *workload,
		      const char *labels, const struct test_case *c, uint8_t want, size_t *written)
{
	struct workload_label lv[LABELS_MAX];
	struct workload_identity id = { .name = workload, .labels = lv };
	struct eval_action a = { .action = c->action, .access = c->access };
	struct eval_result r;
	char why[256], *buf = strdup(labels), names[ACCESS_NAMES_SIZE];
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	for (char *save = NULL, *item = strtok_r(buf, ",", &save); item && n < LABELS_MAX;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (eq) {
			*eq = '\0';
			lv[n++] = (struct workload_label){ item, eq + 1 };
		}
	}
	id.label_count = n;
	if (c->action == ACTGATE_ACTION_CONNECT) {
		if (!strncmp(c->target, "unix:", 5)) {
			a.unix_socket = true;
			a.path = c->target + 5;
		} else {
			a.protocol = c->protocol ? c->protocol : IPPROTO_TCP;
			if (eval_parse_connect_target(c->target, a.addr, &a.port, why, sizeof(why))) {
				free(buf);
				return 0;
			}
		}
	} else {
		a.path = c->target;
	}
	if (policy_evaluate(set, &id, NULL, &a, &r, why, sizeof(why)) || r.verdict != want) {
		free(buf);
		return 0; /* not what the rule is for: the self-check reports misses */
	}
	fprintf(out, "    - name: ");
	suggest_write_quoted(out, c->name);
	fprintf(out, "\n      workload: ");
	suggest_write_quoted(out, workload);
	if (n) {
		fprintf(out, "\n      labels: {");
		for (size_t i = 0; i < n; i++) {
			fprintf(out, "%s", i ? ", " : "");
			suggest_write_quoted(out, lv[i].key);
			fprintf(out, ": ");
			suggest_write_quoted(out, lv[i].value);
		}
		fprintf(out, "}");
	}
	fprintf(out, "\n      action: %s\n      target: ", action_name(c->action));
	suggest_write_quoted(out, c->target);
	if (c->action == ACTGATE_ACTION_OPEN && !access_names(c->access, names, sizeof(names)))
		fprintf(out, "\n      access: [%s]", names);
	if (c->action == ACTGATE_ACTION_CONNECT && c->protocol == IPPROTO_UDP)
		fprintf(out, "\n      protocol: udp");
	fprintf(out, "\n      expect: %s\n      rule: ", verdict_name(want));
	suggest_write_quoted(out, r.rule);
	fprintf(out, "\n      mode: %s\n", mode_name(r.mode));
	free(buf);
	(*written)++;
	return ferror(out) ? -EIO : 0;
}

/* The lowest access bit of a that b has too, else a's lowest. */
static uint8_t one_access(uint8_t a, uint8_t b)
{
	uint8_t both = a & b ? a & b : a;

	return (uint8_t)(both & -both);
}

static int write_tests(FILE *out, const char *name, const char *policy_file,
		       const struct policy_set *set, const struct suggest_result *res,
		       const char *workload, const char *labels, size_t *written)
{
	static const struct test_case defaults[] = {
		{ "not on the list: a program copied to /tmp", ACTGATE_ACTION_EXEC,
		  "/tmp/copied-tool", 0, 0 },
		{ "not used: a key under a home directory", ACTGATE_ACTION_OPEN,
		  "/root/.ssh/id_ed25519", ACTGATE_ACCESS_READ, 0 },
		{ "not used: writing the system's configuration", ACTGATE_ACTION_OPEN,
		  "/etc/passwd", ACTGATE_ACCESS_WRITE, 0 },
		{ "not used: another address", ACTGATE_ACTION_CONNECT, "192.0.2.1:443", 0,
		  IPPROTO_TCP },
	};
	int err = 0;

	fprintf(out, "# The tests of %s, written with it by actgate policy suggest: a case for\n"
		     "# each rule (one of the decisions it covers) and for what it denies.\n"
		     "# Run them with: actgate policy test %s\n", policy_file, policy_file);
	fprintf(out, "apiVersion: " POLICY_API_VERSION "\nkind: PolicyTest\nmetadata:\n  name: ");
	suggest_write_quoted(out, name);
	fprintf(out, "\nspec:\n  policies: [");
	suggest_write_quoted(out, policy_file);
	fprintf(out, "]\n  cases:\n");
	for (size_t i = 0; i < res->count && !err; i++) {
		const struct suggest_rule *r = &res->rules[i];
		char case_name[ACTGATE_PATH_BUF + 64], target[ACTGATE_PATH_BUF + 8];
		struct test_case c = { .name = case_name, .action = r->action, .target = target };

		if (r->deny) {
			snprintf(target, sizeof(target), "%s", r->path);
			c.access = one_access(r->access, ACTGATE_ACCESS_ALL);
			snprintf(case_name, sizeof(case_name), "rule %zu: kept denied: %s", i + 1,
				 r->path);
			err = write_case(out, set, workload, labels, &c, ACTGATE_VERDICT_DENY, written);
			continue;
		}
		snprintf(target, sizeof(target), "%s", r->example ? r->example : "");
		if (r->action == ACTGATE_ACTION_OPEN)
			c.access = one_access(r->access, r->example_access);
		if (r->action == ACTGATE_ACTION_CONNECT && !r->unix_socket) {
			char *slash = strrchr(target, '/');

			if (slash) {
				c.protocol = !strcmp(slash + 1, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
				*slash = '\0';
			}
		}
		snprintf(case_name, sizeof(case_name), "rule %zu: %s %s", i + 1,
			 action_name(r->action), target);
		err = write_case(out, set, workload, labels, &c, ACTGATE_VERDICT_ALLOW, written);
	}
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]) && !err; i++)
		err = write_case(out, set, workload, labels, &defaults[i], ACTGATE_VERDICT_DENY,
				 written);
	return err ? err : ferror(out) ? -EIO : 0;
}

/* Write text to path through a temporary file beside it, renamed into place. */
static int write_file(const char *path, const char *text, size_t len)
{
	char *tmp = NULL;
	FILE *f;
	int err = 0;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		goto out;
	}
	if (fwrite(text, 1, len, f) != len)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	free(tmp);
	return err;
}

/* OUTPUT's test: NAME.yaml -> NAME.test.yaml, NAME.yml -> NAME.test.yml, else OUTPUT.test.yaml. */
static char *test_path_of(const char *output)
{
	size_t n = strlen(output);
	char *p = NULL;

	if (n > 5 && !strcmp(output + n - 5, ".yaml")) {
		if (asprintf(&p, "%.*s.test.yaml", (int)(n - 5), output) < 0)
			return NULL;
	} else if (n > 4 && !strcmp(output + n - 4, ".yml")) {
		if (asprintf(&p, "%.*s.test.yml", (int)(n - 4), output) < 0)
			return NULL;
	} else if (asprintf(&p, "%s.test.yaml", output) < 0) {
		return NULL;
	}
	return p;
}

enum {
	OPT_SELECTOR = 0x100,
	OPT_FLOOR,
	OPT_CURRENT,
	OPT_LABEL,
	OPT_SINCE,
	OPT_UNTIL,
};

/* metadata.name: [a-z0-9]([a-z0-9-]*[a-z0-9])?, at most 63 (docs/policy.md). */
static bool valid_policy_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	return true;
}

static int parse_args(int argc, char **argv, struct suggest_args *a)
{
	static const struct option options[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "level", required_argument, NULL, 'l' },
		{ "selector", required_argument, NULL, OPT_SELECTOR },
		{ "floor", required_argument, NULL, OPT_FLOOR },
		{ "current", required_argument, NULL, OPT_CURRENT },
		{ "journal-dir", required_argument, NULL, 'j' },
		{ "workload", required_argument, NULL, 'w' },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *fallback[1];
	char why[256], msg[512];
	uint64_t ns;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "n:o:l:j:w:h", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			a->name = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'l':
			if (suggest_level_from_name(optarg, &a->opt.level))
				return cli_usage_error(VERB, "--level %s: expected exact, balanced or coarse",
						       optarg);
			break;
		case OPT_SELECTOR:
			if (push(strchr(optarg, '=') ? &a->selector_labels : &a->selector_globs, optarg))
				return cli_usage_error(VERB, "%s", strerror(ENOMEM));
			break;
		case OPT_FLOOR:
			if (optarg[0] != '/')
				return cli_usage_error(VERB, "--floor %s: expected an absolute directory",
						       optarg);
			if (push(&a->floors, optarg))
				return cli_usage_error(VERB, "%s", strerror(ENOMEM));
			break;
		case OPT_CURRENT:
			a->current_dir = optarg[0] ? optarg : NULL;
			a->current_given = true;
			break;
		case 'j':
			a->journal_dir = optarg;
			break;
		case 'w':
			a->filter.workload_glob = optarg;
			break;
		case OPT_LABEL: {
			const char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || strchr(eq + 1, '=') || strchr(optarg, ','))
				return cli_usage_error(VERB, "--label %s: expected KEY=VALUE (no ',', one '=')",
						       optarg);
			if (push(&a->labels, optarg))
				return cli_usage_error(VERB, "%s", strerror(ENOMEM));
			break;
		}
		case OPT_SINCE:
		case OPT_UNTIL:
			if (jquery_parse_time(optarg, wall_ns(), &ns, why, sizeof(why))) {
				snprintf(msg, sizeof(msg), "%s %s: %s",
					 opt == OPT_SINCE ? "--since" : "--until", optarg, why);
				return cli_usage_error(VERB, "%s", msg);
			}
			if (opt == OPT_SINCE)
				a->filter.since_ns = ns;
			else
				a->filter.until_ns = ns ? ns : 1;
			break;
		case 'h':
			suggest_usage(stdout);
			return -1;
		default:
			return cli_option_error(VERB, argv, "n:o:l:j:w:h", options);
		}
	}
	if (!a->name)
		return cli_usage_error(VERB, "%s", "--name NAME is required (metadata.name)");
	if (!valid_policy_name(a->name))
		return cli_usage_error(VERB, "--name %s: expected lowercase letters, digits and '-', "
				       "starting and ending with a letter or digit, at most 63",
				       a->name);
	if (a->output) {
		size_t n = strlen(a->output);

		if ((n > 10 && !strcmp(a->output + n - 10, ".test.yaml")) ||
		    (n > 9 && !strcmp(a->output + n - 9, ".test.yml")))
			return cli_usage_error(VERB, "--output %s: a *.test.yaml name is a policy test's",
					       a->output);
	}
	if (a->filter.since_ns && a->filter.until_ns && a->filter.until_ns <= a->filter.since_ns)
		return cli_usage_error(VERB, "%s", "--until is not after --since: nothing can match");
	if (a->journal_dir && optind < argc)
		return cli_usage_error(VERB, "give the journal as --journal-dir or as %s, not both",
				       "JOURNAL...");
	if (optind < argc) {
		a->paths = (const char *const *)&argv[optind];
		a->n_paths = (size_t)(argc - optind);
	} else {
		fallback[0] = a->journal_dir ? a->journal_dir : DEFAULT_JOURNAL_DIR;
		a->paths = fallback;
		a->n_paths = 1;
	}
	a->filter.labels = a->labels.v;
	a->filter.n_labels = a->labels.n;
	a->opt.floors = a->floors.v;
	a->opt.floor_count = a->floors.n;
	return 0;
}

static int load_current(struct suggest_args *a, struct policy_set *set)
{
	struct diag_list diags = { 0 };
	struct stat st;
	int err;

	if (!a->current_given && stat(DEFAULT_POLICY_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		a->current_dir = DEFAULT_POLICY_DIR;
	if (!a->current_dir)
		return 0;
	err = policy_load_dir(a->current_dir, set, &diags);
	diag_print(&diags, stderr);
	diag_list_free(&diags);
	if (err)
		fprintf(stderr, "actgate: " VERB ": --current %s: %s\n", a->current_dir,
			err == -EINVAL ? "the policies in force are invalid" : strerror(-err));
	return err;
}

int cmd_policy_suggest(int argc, char **argv)
{
	struct suggest_args a = { .opt.level = SUGGEST_BALANCED, .filter = JQUERY_FILTER_ANY };
	struct policy_set current = { 0 }, suggested = { 0 };
	struct suggest_result res = { 0 };
	struct diag_list diags = { 0 };
	struct suggest *s = NULL;
	struct check_totals t;
	char *text = NULL, *tests = NULL, *test_path = NULL, source[512];
	size_t text_len = 0, tests_len = 0, cases = 0;
	struct suggest_meta m = { 0 };
	FILE *mem;
	int ret = EXIT_FAIL, err;

	err = parse_args(argc, argv, &a);
	if (err) {
		ret = err < 0 ? 0 : err;
		goto out;
	}
	if (load_current(&a, &current))
		goto out;
	if (suggest_new(&s) || collect(&a, s))
		goto out;
	if (!suggest_taken(s)) {
		fprintf(stderr, "actgate: " VERB ": no recorded decision of these workloads to learn "
				"from (an allow, or a deny in audit mode)\n");
		goto out;
	}
	a.opt.current = &current;
	if ((err = suggest_build(s, &a.opt, &res))) {
		fprintf(stderr, "actgate: " VERB ": %s\n", strerror(-err));
		goto out;
	}
	/* The selector: as given, else what the decisions were chosen by. */
	m.name = a.name;
	m.level = a.opt.level;
	if (a.selector_globs.n || a.selector_labels.n) {
		m.workload_globs = a.selector_globs.v;
		m.workload_glob_count = a.selector_globs.n;
		m.labels = a.selector_labels.v;
		m.label_count = a.selector_labels.n;
	} else {
		m.workload_globs = a.filter.workload_glob ? &a.filter.workload_glob :
							    (const char *const *)res.workloads;
		m.workload_glob_count = a.filter.workload_glob ? 1 : res.workload_count;
		m.labels = a.labels.v;
		m.label_count = a.labels.n;
	}
	{
		char first[JQUERY_TIME_SIZE], last[JQUERY_TIME_SIZE];

		jquery_format_time(res.first_ns, first);
		jquery_format_time(res.last_ns, last);
		snprintf(source, sizeof(source), "Decisions of %zu workload%s from %s to %s.",
			 res.workload_count, res.workload_count == 1 ? "" : "s", first, last);
		m.source = source;
	}
	mem = open_memstream(&text, &text_len);
	if (!mem || suggest_write_policy(mem, &res, &m) || fclose(mem)) {
		fprintf(stderr, "actgate: " VERB ": cannot write the policy in memory\n");
		goto out;
	}
	/* What it writes must be what `actgate policy check` accepts without a word. */
	err = policy_parse_buffer(a.output ? a.output : "<suggestion>", text, text_len, &suggested,
				  &diags);
	if (err || diags.warnings || diags.errors) {
		diag_print(&diags, stderr);
		fprintf(stderr, "actgate: " VERB ": the suggested policy does not pass policy check "
				"cleanly; nothing written\n");
		goto out;
	}
	if ((err = self_check(&a, &suggested, &t)))
		goto out;
	for (size_t i = 0; i < res.problem_count; i++)
		printf("suggest: not allowed: %s\n", res.problems[i]);
	printf("self-check: %zu recorded actions happened (allowed, or denied in audit mode): "
	       "%zu allowed by the suggestion, %zu denied; %zu enforced denials: %zu stay "
	       "denied; %zu not decided again\n",
	       t.needed, t.covered, t.missed, t.enforced, t.still_denied, t.skipped);
	if (print_tightening(&current, &suggested.policies[0], &res))
		goto out;
	if (t.missed) {
		fprintf(stderr, "actgate: " VERB ": the suggestion would deny %zu recorded action%s "
				"that happened; nothing written\n", t.missed, t.missed == 1 ? "" : "s");
		goto out;
	}
	if (!a.output) {
		fwrite(text, 1, text_len, stdout);
		ret = fflush(stdout) ? EXIT_FAIL : 0;
		goto out;
	}
	{
		char *copy = strdup(a.output);

		if (!copy)
			goto out;
		mem = open_memstream(&tests, &tests_len);
		err = mem ? write_tests(mem, a.name, basename(copy), &suggested, &res,
					res.workloads[0], res.workload_labels[0], &cases) : -ENOMEM;
		free(copy);
		if (mem && fclose(mem) && !err)
			err = -EIO;
		if (err) {
			fprintf(stderr, "actgate: " VERB ": the policy test: %s\n", strerror(-err));
			goto out;
		}
	}
	test_path = test_path_of(a.output);
	if (!test_path)
		goto out;
	if ((err = write_file(a.output, text, text_len))) {
		fprintf(stderr, "actgate: " VERB ": %s: %s\n", a.output, strerror(-err));
		goto out;
	}
	if ((err = write_file(test_path, tests, tests_len))) {
		fprintf(stderr, "actgate: " VERB ": %s: %s\n", test_path, strerror(-err));
		goto out;
	}
	printf("wrote %s (%zu rules, level %s) and %s (%zu cases)\n", a.output, res.count,
	       suggest_level_name(a.opt.level), test_path, cases);
	ret = 0;
out:
	suggest_free(s);
	suggest_result_free(&res);
	policy_set_free(&current);
	policy_set_free(&suggested);
	diag_list_free(&diags);
	free(text);
	free(tests);
	free(test_path);
	free(a.labels.v);
	free(a.selector_globs.v);
	free(a.selector_labels.v);
	free(a.floors.v);
	return ret;
}
