/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "cli/common.h"
#include "cli/export.h"
#include "cli/journal.h"
#include "cli/replay.h"
#include "cli/whatif.h"
#include "journal/sink.h"
#include "journal/store.h"
#include "journal/summary.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/paths.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_CANNOT 3 /* verify, replay --what-if: the journal could not be read at all */

static int usage_error(const char *verb, const char *fmt, const char *arg)
{
	fprintf(stderr, "actgate: %s: ", verb);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'actgate %s --help'.\n", verb);
	return EXIT_USAGE;
}

/* ---- filters, shared by replay and export ---- */

#define FILTER_HELP                                                                            \
	"  -w, --workload GLOB     only workloads whose name matches GLOB\n"                       \
	"  -a, --action A          only exec, open, connect or tamper decisions\n"                 \
	"  -V, --verdict V         only allow or deny decisions\n"                                 \
	"      --since T           only decisions at or after T: RFC 3339 with Z or an\n"          \
	"                          offset (2026-11-28T13:00:00Z), a date (2026-11-28),\n"          \
	"                          or a time back from now (90s, 30m, 2h, 1d)\n"                   \
	"      --until T           only decisions before T (the same forms)\n"                     \
	"      --principal P       only workloads commissioned by P (--delegated-by)\n"            \
	"      --label K=V         only workloads with this label (repeatable: all must hold)\n"  \
	"      --rule GLOB         only decisions by a rule whose name matches GLOB\n"             \
	"                          (ci:exec.deny\\[0\\], ci:open.*: a '[' needs a '\\')\n"        \
	"      --target GLOB       only targets matching GLOB ('*' also matches '/'), or\n"       \
	"                          records whose name (target_name) matches it\n"               \
	"      --pid N             only the thread or process N\n"

enum {
	OPT_SINCE = 0x100,
	OPT_UNTIL,
	OPT_PRINCIPAL,
	OPT_LABEL,
	OPT_RULE,
	OPT_TARGET,
	OPT_PID,
	OPT_JSON,
	OPT_STATS,
	OPT_TREE,
	OPT_WHAT_IF,
	OPT_NO_SUMMARIES,
	OPT_KEY,
	OPT_PARTIAL,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_FOLLOW,
	OPT_CLOSED,
	OPT_HEAD,
};

#define FILTER_OPTIONS                                                                         \
	{ "workload", required_argument, NULL, 'w' },                                          \
	{ "action", required_argument, NULL, 'a' },                                            \
	{ "verdict", required_argument, NULL, 'V' },                                           \
	{ "since", required_argument, NULL, OPT_SINCE },                                       \
	{ "until", required_argument, NULL, OPT_UNTIL },                                       \
	{ "principal", required_argument, NULL, OPT_PRINCIPAL },                               \
	{ "label", required_argument, NULL, OPT_LABEL },                                       \
	{ "rule", required_argument, NULL, OPT_RULE },                                         \
	{ "target", required_argument, NULL, OPT_TARGET },                                     \
	{ "pid", required_argument, NULL, OPT_PID }

struct filter_state {
	struct jquery_filter f;
	const char **labels;
};

/* 1: taken, 0: not a filter option, EXIT_USAGE after saying why. */
static int filter_option(const char *verb, int opt, const char *arg, struct filter_state *fs)
{
	char why[256], msg[512];
	uint8_t value;
	uint64_t ns;

	switch (opt) {
	case 'w':
		fs->f.workload_glob = arg;
		return 1;
	case 'a':
		if (action_from_name(arg, &value) || value == ACTGATE_ACTION_NONE)
			return usage_error(verb, "--action %s: expected exec, open, connect or tamper",
					   arg);
		fs->f.action = value;
		return 1;
	case 'V':
		if (verdict_from_name(arg, &value))
			return usage_error(verb, "--verdict %s: expected allow or deny", arg);
		fs->f.verdict = value;
		return 1;
	case OPT_SINCE:
	case OPT_UNTIL:
		if (jquery_parse_time(arg, wall_ns(), &ns, why, sizeof(why))) {
			snprintf(msg, sizeof(msg), "%s %s: %s", opt == OPT_SINCE ? "--since" : "--until",
				 arg, why);
			return usage_error(verb, "%s", msg);
		}
		if (opt == OPT_SINCE)
			fs->f.since_ns = ns;
		else
			fs->f.until_ns = ns ? ns : 1;
		return 1;
	case OPT_PRINCIPAL:
		fs->f.principal = arg;
		return 1;
	case OPT_LABEL: {
		const char **bigger;
		const char *eq = strchr(arg, '=');

		if (!eq || eq == arg || strchr(eq + 1, '=') || strchr(arg, ','))
			return usage_error(verb, "--label %s: expected KEY=VALUE (no ',', one '=')",
					   arg);
		bigger = realloc(fs->labels, (fs->f.n_labels + 1) * sizeof(*bigger));
		if (!bigger)
			return usage_error(verb, "%s", strerror(ENOMEM));
		fs->labels = bigger;
		fs->labels[fs->f.n_labels++] = arg;
		fs->f.labels = fs->labels;
		return 1;
	}
	case OPT_RULE:
		fs->f.rule_glob = arg;
		return 1;
	case OPT_TARGET:
		fs->f.target_glob = arg;
		return 1;
	case OPT_PID: {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(arg, &end, 10);
		if (arg[0] < '0' || arg[0] > '9' || *end || errno || v > UINT32_MAX)
			return usage_error(verb, "--pid %s: expected a process id (0 to 4294967295)",
					   arg);
		fs->f.pid = (int64_t)v;
		return 1;
	}
	}
	return 0;
}

static int check_range(const char *verb, const struct jquery_filter *f)
{
	if (f->since_ns && f->until_ns && f->until_ns <= f->since_ns)
		return usage_error(verb, "%s", "--until is not after --since: nothing can match");
	return 0;
}

/* The journals to read: JOURNAL... or --journal-dir or the default. */
static const char *const *journal_paths(int argc, char **argv, const char *dir, size_t *n)
{
	static const char *fallback[1];

	if (optind < argc) {
		*n = (size_t)(argc - optind);
		return (const char *const *)&argv[optind];
	}
	fallback[0] = dir ? dir : DEFAULT_JOURNAL_DIR;
	*n = 1;
	return fallback;
}

/* ---- replay ---- */

static void replay_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate replay [OPTION]... [JOURNAL]...\n"
		"Print recorded decisions, oldest first, as a table or as JSON lines; or count\n"
		"them, draw a workload's process tree, or decide them again under other\n"
		"policies. A JOURNAL is a journal directory or a segment file\n"
		"(journal-*.seg, or .seg.gz: compressed or not, told apart by content);\n"
		"copied journals work too. Without one, --journal-dir or\n"
		DEFAULT_JOURNAL_DIR " is read. Damaged stretches are reported on stderr\n"
		"and skipped: every intact record is still printed.\n"
		"\n"
		"  -j, --journal-dir DIR   journal directory [" DEFAULT_JOURNAL_DIR "]\n"
		"      --json              one JSON object per line (fields: docs/journal-format.md)\n"
		"  -f, --follow            keep printing decisions as they are journaled (a\n"
		"                          directory; across rotation) until interrupted\n"
		"      --stats             counts by workload, action and verdict (with --json:\n"
		"                          one object per row)\n"
		"      --tree WORKLOAD     the exec lineage of WORKLOAD (a name or glob), parent\n"
		"                          to child, with each process's decisions\n"
		"      --what-if DIR       decide every recorded action again under the policies\n"
		"                          of DIR; print the decisions that would change and the\n"
		"                          rule that would decide, then a summary\n"
		"      --no-summaries      read every segment: do not skip closed segments whose\n"
		"                          summary shows no decision passes the filters (their\n"
		"                          damage is then reported too; verify checks summaries)\n"
		FILTER_HELP
		"  -h, --help              show this help\n"
		"\n"
		"Exit status: 0 on success (also with no matching record); 1 when the journal\n"
		"cannot be read; 2 on usage errors. With --what-if: 0 when no decision would\n"
		"change, 1 when some would, 2 on usage errors or invalid candidate policies, 3\n"
		"when the journal cannot be read.\n");
}

static volatile int stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int what_if(const struct replay_options *o, const char *dir, bool json)
{
	struct policy_set set = { 0 };
	struct diag_list diags = { 0 };
	struct whatif_totals totals;
	int err, status;

	err = policy_load_dir(dir, &set, &diags);
	diag_print(&diags, stderr);
	diag_list_free(&diags);
	if (err) {
		if (err != -EINVAL)
			fprintf(stderr, "actgate: replay: --what-if %s: %s\n", dir, strerror(-err));
		else
			fprintf(stderr, "actgate: replay: --what-if %s: the candidate policies are invalid\n",
				dir);
		policy_set_free(&set);
		return EXIT_USAGE;
	}
	err = replay_what_if(o, &set, json, &totals, stdout, stderr);
	policy_set_free(&set);
	if (err)
		return EXIT_CANNOT;
	status = totals.now_denied || totals.now_allowed ? EXIT_FAIL : 0;
	return status;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option options[] = {
		{ "journal-dir", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "follow", no_argument, NULL, 'f' },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "tree", required_argument, NULL, OPT_TREE },
		{ "what-if", required_argument, NULL, OPT_WHAT_IF },
		{ "no-summaries", no_argument, NULL, OPT_NO_SUMMARIES },
		FILTER_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct filter_state fs = { .f = JQUERY_FILTER_ANY };
	struct replay_options o = { 0 };
	const char *dir = NULL, *what_if_dir = NULL;
	bool json = false, stats = false;
	int opt, ret = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "j:fw:a:V:h", options, NULL)) != -1) {
		ret = filter_option("replay", opt, optarg, &fs);
		if (ret == 1) {
			ret = 0;
			continue;
		}
		if (ret)
			goto out;
		switch (opt) {
		case 'j':
			dir = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'f':
			o.follow = true;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case OPT_TREE:
			o.tree_workload = optarg;
			break;
		case OPT_WHAT_IF:
			what_if_dir = optarg;
			break;
		case OPT_NO_SUMMARIES:
			o.read_all = true;
			break;
		case 'h':
			replay_usage(stdout);
			goto out;
		default:
			ret = cli_option_error("replay", argv, "j:fw:a:V:h", options);
			goto out;
		}
	}
	if ((ret = check_range("replay", &fs.f)))
		goto out;
	if ((stats + !!o.tree_workload + !!what_if_dir + o.follow) > 1) {
		ret = usage_error("replay", "%s",
				  "--stats, --tree, --what-if and --follow exclude each other");
		goto out;
	}
	if (o.tree_workload && json) {
		ret = usage_error("replay", "%s", "--tree prints a tree for people: no --json");
		goto out;
	}
	if (dir && optind < argc) {
		ret = usage_error("replay", "give the journal as --journal-dir or as %s, not both",
				  "JOURNAL...");
		goto out;
	}
	o.paths = journal_paths(argc, argv, dir, &o.n_paths);
	o.filter = &fs.f;
	if (what_if_dir) {
		ret = what_if(&o, what_if_dir, json);
		goto out;
	}
	o.output = stats ? (json ? REPLAY_STATS_JSON : REPLAY_STATS) :
		   o.tree_workload ? REPLAY_TREE : json ? REPLAY_JSON : REPLAY_TABLE;
	if (o.follow) {
		struct sigaction sa = { .sa_handler = on_stop };

		/* No SA_RESTART: the poll between reads returns, and replay ends cleanly. */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		o.stop = &stop_requested;
	}
	ret = replay_execute(&o, stdout, stderr) ? EXIT_FAIL : 0;
out:
	free(fs.labels);
	return ret;
}

/* ---- verify ---- */

static void verify_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate verify [--journal-dir DIR] [--key FILE | --no-key] [--partial]\n"
		"                      [--closed] [--head FILE] [--json] [JOURNAL]...\n"
		"Check a journal for damage and tampering: every record's framing and CRC, the\n"
		"record numbering, the SHA-256 chain within and across segments, the seals\n"
		"(numbered, at most 10000 records apart, one closing every segment but the\n"
		"newest), every segment summary against the decisions of the segment it\n"
		"summarises (replay trusts summaries to skip segments), and, with the seal\n"
		"key, every seal's HMAC (a rewritten chain is found only with the key).\n"
		"The newest segment's records after its last seal are\n"
		"protected by no seal: they are counted, and with --closed they are damage.\n"
		"A JOURNAL is a journal directory or segment files (plain or compressed);\n"
		"without one, --journal-dir or " DEFAULT_JOURNAL_DIR " is checked. Prints the\n"
		"first damage (its kind, file, segment, offset and record) and the totals.\n"
		"\n"
		"  -j, --journal-dir DIR  journal directory [" DEFAULT_JOURNAL_DIR "]\n"
		"  -k, --key FILE         the seal key [" DEFAULT_JOURNAL_KEY ", when readable]\n"
		"      --no-key           do not check the seals' HMACs\n"
		"      --partial          the files may start after the journal's first segment\n"
		"                         (a copy of its newest segments)\n"
		"      --closed           the daemon stopped cleanly: the newest segment must\n"
		"                         end with a closing seal too\n"
		"      --head FILE        the journal must hold the seal that actgated kept in\n"
		"                         FILE outside it (STATE_DIR/journal-head): a journal\n"
		"                         cut after it, or emptied, is damage (behind-head)\n"
		"      --json             the result as one JSON object\n"
		"  -h, --help             show this help\n"
		"\n"
		"Kinds of damage: io, header, frame, crc, torn-tail, compression, sequence,\n"
		"chain, segment-missing, segment-order, seal, seal-key, seal-missing,\n"
		"behind-head (docs/journal-store.md); summary (docs/journal-format.md).\n"
		"\n"
		"Exit status: 0 when the journal is intact; 1 when it is damaged; 2 on usage\n"
		"errors; 3 when it could not be checked (no journal there, no key file).\n");
}

static void verify_print(const struct jstore_verify_result *r, const struct jsummary_verify_result *sr,
			 const char *key_path, int status)
{
	if (status && r->damage == JSTORE_INTACT) {
		/* The store is intact; a summary is not what its segment holds. */
		printf("DAMAGED: summary: %s\n", sr->message);
		printf("  first damage: %s (segment %" PRIu64 "), sequence number %" PRIu64 "\n",
		       sr->segment, sr->segment_seq, sr->record_seq);
		printf("  %" PRIu64 " damage%s in all\n", sr->wrong, sr->wrong == 1 ? "" : "s");
	} else if (status) {
		printf("DAMAGED: %s: %s\n", jstore_damage_name(r->damage), r->message);
		printf("  first damage: %s (segment %" PRIu64 "), offset %" PRIu64
		       ", record %" PRIu64 " of the segment, sequence number %" PRIu64 "\n",
		       r->segment, r->segment_seq, r->offset, r->record_index, r->record_seq);
		printf("  %" PRIu64 " damage%s in all\n", r->damages + sr->wrong,
		       r->damages + sr->wrong == 1 ? "" : "s");
	} else {
		printf("intact\n");
	}
	/* The store counts every caller record; summaries are not decisions. */
	printf("  %" PRIu64 " segments, %" PRIu64 " records (%" PRIu64 " decisions), %" PRIu64
	       " seals\n",
	       r->segments, r->records, r->user_records - sr->found, r->seals);
	if (r->key_checked)
		printf("  %" PRIu64 " seals checked with the key %s\n", r->seals_checked, key_path);
	else
		printf("  seals' HMACs not checked: no key (a rewritten chain would go unseen)\n");
	if (r->unsealed_records)
		printf("  %" PRIu64 " records after the newest segment's last seal (sealed by none: "
		       "the writer is running or crashed; --closed if it stopped cleanly)\n",
		       r->unsealed_records);
	if (r->gaps)
		printf("  %" PRIu64 " gap records: %" PRIu64 " decisions the writer could not write\n",
		       r->gaps, r->lost);
	if (r->unclean_opens)
		printf("  %" PRIu64 " restarts after the writer did not close the journal (a crash)\n",
		       r->unclean_opens);
	if (r->retired_segments)
		printf("  %" PRIu64 " old segments removed by retention (recorded)\n",
		       r->retired_segments);
	printf("  %" PRIu64 " segment summaries checked against their segments", sr->checked);
	if (sr->without)
		printf(", %" PRIu64 " closed segments without one (replay reads them whole)",
		       sr->without);
	printf("\n");
	if (sr->wrong && r->damage != JSTORE_INTACT)
		printf("  %" PRIu64 " wrong summaries, the first: %s: %s\n", sr->wrong, sr->segment,
		       sr->message);
}

static void verify_json(const struct jstore_verify_result *r, const struct jsummary_verify_result *sr,
			int status)
{
	bool summary_first = status && r->damage == JSTORE_INTACT;
	struct json_out j;

	json_out_init(&j);
	json_object_begin(&j);
	json_add_bool(&j, "intact", status == 0);
	json_add_string(&j, "damage", summary_first ? "summary" :
					status ? jstore_damage_name(r->damage) : "");
	json_add_string(&j, "message", summary_first ? sr->message : status ? r->message : "");
	json_add_string(&j, "segment", summary_first ? sr->segment : status ? r->segment : "");
	json_add_u64(&j, "segment_seq", summary_first ? sr->segment_seq :
					status ? r->segment_seq : 0);
	json_add_u64(&j, "offset", status && !summary_first ? r->offset : 0);
	json_add_u64(&j, "record_index", status && !summary_first ? r->record_index : 0);
	json_add_u64(&j, "record_seq", summary_first ? sr->record_seq :
				       status ? r->record_seq : 0);
	json_add_u64(&j, "damages", r->damages + sr->wrong);
	json_add_u64(&j, "segments", r->segments);
	json_add_u64(&j, "records", r->records);
	json_add_u64(&j, "decisions", r->user_records - sr->found);
	json_add_u64(&j, "seals", r->seals);
	json_add_u64(&j, "seals_checked", r->seals_checked);
	json_add_bool(&j, "key_checked", r->key_checked);
	json_add_u64(&j, "unsealed_records", r->unsealed_records);
	json_add_u64(&j, "last_seal", r->last_seal);
	json_add_u64(&j, "gaps", r->gaps);
	json_add_u64(&j, "lost", r->lost);
	json_add_u64(&j, "unclean_opens", r->unclean_opens);
	json_add_u64(&j, "retired_segments", r->retired_segments);
	json_add_u64(&j, "summaries_checked", sr->checked);
	json_add_u64(&j, "summaries_wrong", sr->wrong);
	json_add_u64(&j, "segments_without_summary", sr->without);
	json_object_end(&j);
	json_out_write_line(&j, stdout);
	json_out_free(&j);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option options[] = {
		{ "journal-dir", required_argument, NULL, 'j' },
		{ "key", required_argument, NULL, 'k' },
		{ "no-key", no_argument, NULL, 'n' },
		{ "partial", no_argument, NULL, OPT_PARTIAL },
		{ "closed", no_argument, NULL, OPT_CLOSED },
		{ "head", required_argument, NULL, OPT_HEAD },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct jstore_verify_result *res = NULL;
	struct jsummary_verify_result *sres = NULL;
	struct jstore_key key;
	struct jstore_head head;
	const char *dir = NULL, *key_path = NULL, *head_path = NULL;
	const char *const *paths;
	bool json = false, no_key = false, have_key = false;
	unsigned flags = 0;
	size_t n;
	int opt, err, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "j:k:h", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			dir = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'n':
			no_key = true;
			break;
		case OPT_PARTIAL:
			flags |= JSTORE_VERIFY_PARTIAL;
			break;
		case OPT_CLOSED:
			flags |= JSTORE_VERIFY_CLOSED;
			break;
		case OPT_HEAD:
			head_path = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			verify_usage(stdout);
			return 0;
		default:
			return cli_option_error("verify", argv, "j:k:h", options);
		}
	}
	if (dir && optind < argc)
		return usage_error("verify", "give the journal as --journal-dir or as %s, not both",
				   "JOURNAL...");
	if (key_path && no_key)
		return usage_error("verify", "%s", "--key and --no-key exclude each other");
	paths = journal_paths(argc, argv, dir, &n);
	if (!no_key) {
		/* An explicit key must load; the default one only where this host has it. */
		if (key_path || access(DEFAULT_JOURNAL_KEY, R_OK) == 0) {
			if (!key_path)
				key_path = DEFAULT_JOURNAL_KEY;
			err = jstore_key_load(key_path, NULL, &key);
			if (err) {
				fprintf(stderr, "actgate: verify: --key %s: %s\n", key_path, strerror(-err));
				return EXIT_CANNOT;
			}
			have_key = true;
		}
	}
	if (head_path) {
		char why[600];

		err = jstore_head_load(head_path, &head, why, sizeof(why));
		if (err) {
			fprintf(stderr, "actgate: verify: --head %s\n", why);
			return EXIT_CANNOT;
		}
	}
	res = calloc(1, sizeof(*res));
	sres = calloc(1, sizeof(*sres));
	if (!res || !sres) {
		free(res);
		free(sres);
		fprintf(stderr, "actgate: verify: %s\n", strerror(ENOMEM));
		return EXIT_CANNOT;
	}
	err = jstore_verify_against(paths, n, have_key ? &key : NULL, flags,
				    head_path ? &head : NULL, res);
	if ((!err || err == -EBADMSG) && res->segments) {
		/* Replay trusts a summary to skip its segment: each must be what it summarises. */
		int serr = jsummary_verify(paths, n, sres);

		if (serr && serr != -EBADMSG)
			err = serr;
		else if (serr && !err)
			err = serr;
	}
	if (err && err != -EBADMSG) {
		fprintf(stderr, "actgate: verify: %s: %s\n", paths[0], strerror(-err));
		ret = EXIT_CANNOT;
	} else if (res->segments == 0 && head_path) {
		/* Every segment removed: what the kept head is for. */
		ret = EXIT_FAIL;
		res->damage = JSTORE_DAMAGE_BEHIND_HEAD;
		res->damages = 1;
		snprintf(res->message, sizeof(res->message),
			 "the journal has no segments, and its writer kept seal %" PRIu64
			 " (records to %" PRIu64 ") outside it",
			 head.seal, head.sealed_seq);
		snprintf(res->segment, sizeof(res->segment), "%s", paths[0]);
		if (json)
			verify_json(res, sres, ret);
		else
			verify_print(res, sres, key_path, ret);
	} else if (res->segments == 0) {
		fprintf(stderr, "actgate: verify: %s: no journal segments\n", paths[0]);
		ret = EXIT_CANNOT;
	} else {
		ret = err ? EXIT_FAIL : 0;
		if (json)
			verify_json(res, sres, ret);
		else
			verify_print(res, sres, key_path, ret);
	}
	free(res);
	free(sres);
	return ret;
}

/* ---- export ---- */

static void export_usage(FILE *out)
{
	fprintf(out,
		"Usage: actgate export --format jsonl|ocsf [--output FILE] [FILTER]... [JOURNAL]...\n"
		"       actgate export --format jsonl|ocsf [--follow] [--cursor FILE] --sink SINK\n"
		"                      [--journal-dir DIR] [--batch N] [--queue N] [--overflow block|drop]\n"
		"Write recorded decisions for SIEM pipelines, one JSON object per line, oldest\n"
		"first: jsonl, the objects of `actgate replay --json`; ocsf, OCSF " EXPORT_OCSF_VERSION
		" events\n"
		"(Process Activity for exec, File System Activity for open, Network Activity\n"
		"for connect; the mapping: docs/journal-format.md). JOURNAL as for replay.\n"
		"\n"
		"  -F, --format F          jsonl or ocsf (required)\n"
		"  -o, --output FILE       write to FILE (replaced when complete) [stdout]\n"
		"  -j, --journal-dir DIR   journal directory [" DEFAULT_JOURNAL_DIR "]\n"
		FILTER_HELP
		"\n"
		"Streaming (docs/fleet.md): decisions shipped to SINK as they are journaled,\n"
		"in order, with gap events for records lost or removed before export; a batch\n"
		"the sink refuses is sent again after a backoff (200 ms doubling to 30 s).\n"
		"  -s, --sink SINK         stdout, file:PATH (exactly once with --cursor),\n"
		"                          syslog+unix:PATH (RFC 5424; stream or datagram),\n"
		"                          syslog+tcp://HOST:PORT (RFC 5424, octet-counted),\n"
		"                          syslog+tls://HOST:PORT?ca=FILE[&cert=FILE&key=FILE]\n"
		"                            [&name=SERVERNAME],\n"
		"                          otlp+http://HOST:PORT/v1/logs,\n"
		"                          otlp+https://HOST:PORT/v1/logs[?ca=FILE] (OTLP/HTTP JSON);\n"
		"                          all but file: at least once (deduplicate by seq)\n"
		"  -f, --follow            keep shipping new decisions until SIGINT or SIGTERM\n"
		"                          (without it: stop once the journal is shipped)\n"
		"  -c, --cursor FILE       where the sink's accepted position is kept (saved\n"
		"                          after each accepted batch): a restart resumes there\n"
		"                          (without it: from the journal's start, nothing kept)\n"
		"      --batch N           events per send [256]\n"
		"      --queue N           events waiting for the sink at most [4096]\n"
		"      --overflow MODE     a full queue: block (stop reading) or drop (oldest,\n"
		"                          counted, exported as a gap) [block]\n"
		"  -h, --help              show this help\n"
		"\n"
		"Exit status: 0 on success; 1 when the journal cannot be read or the output\n"
		"cannot be written (streaming: the cursor cannot be read or saved, or, not\n"
		"following, the sink refused); 2 on usage errors.\n");
}

int cmd_export(int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "journal-dir", required_argument, NULL, 'j' },
		FILTER_OPTIONS,
		{ "sink", required_argument, NULL, 's' },
		{ "follow", no_argument, NULL, 'f' },
		{ "cursor", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 0x100 },
		{ "queue", required_argument, NULL, 0x101 },
		{ "overflow", required_argument, NULL, 0x102 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct filter_state fs = { .f = JQUERY_FILTER_ANY };
	struct export_stream_options so = { 0 };
	bool filtered = false;
	struct replay_options o = { 0 };
	const char *dir = NULL, *output = NULL, *format_name = NULL;
	enum export_format format = EXPORT_JSONL;
	char *tmp = NULL;
	FILE *out = stdout;
	int opt, ret = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "F:o:j:w:a:V:s:fc:h", options, NULL)) != -1) {
		ret = filter_option("export", opt, optarg, &fs);
		if (ret == 1) {
			ret = 0;
			filtered = true;
			continue;
		}
		if (ret)
			goto out;
		switch (opt) {
		case 'F':
			format_name = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'j':
			dir = optarg;
			break;
		case 's':
			so.sink = optarg;
			break;
		case 'f':
			so.follow = true;
			break;
		case 'c':
			so.cursor = optarg;
			break;
		case 0x100:
		case 0x101:
		case 0x102:
			ret = export_stream_option(&so, opt - 0x100, optarg);
			if (ret)
				goto out;
			break;
		case 'h':
			export_usage(stdout);
			goto out;
		default:
			ret = cli_option_error("export", argv, "F:o:j:w:a:V:s:fc:h", options);
			goto out;
		}
	}
	if (!format_name) {
		ret = usage_error("export", "%s", "--format jsonl|ocsf is required");
		goto out;
	}
	if (!strcmp(format_name, "jsonl")) {
		format = EXPORT_JSONL;
	} else if (!strcmp(format_name, "ocsf")) {
		format = EXPORT_OCSF;
	} else {
		ret = usage_error("export", "--format %s: expected jsonl or ocsf", format_name);
		goto out;
	}
	if ((ret = check_range("export", &fs.f)))
		goto out;
	if (so.sink || so.follow || so.cursor || so.batch || so.queue || so.overflow_given) {
		if (!so.sink) {
			ret = usage_error("export", "%s", "--follow, --cursor and the queue options need --sink");
			goto out;
		}
		if (output || filtered) {
			ret = usage_error("export", "%s", "--sink ships every decision: no --output, no filters");
			goto out;
		}
		if (optind + 1 < argc || (dir && optind < argc)) {
			ret = usage_error("export", "%s", "--sink follows one journal directory");
			goto out;
		}
		so.journal_dir = optind < argc ? argv[optind] : dir ? dir : DEFAULT_JOURNAL_DIR;
		so.format = format;
		ret = export_stream(&so, stderr) ? EXIT_FAIL : 0;
		goto out;
	}
	if (dir && optind < argc) {
		ret = usage_error("export", "give the journal as --journal-dir or as %s, not both",
				  "JOURNAL...");
		goto out;
	}
	o.paths = journal_paths(argc, argv, dir, &o.n_paths);
	o.filter = &fs.f;
	if (output) {
		/* Written aside and renamed at the end: a SIEM never picks up half a file. */
		if (asprintf(&tmp, "%s.tmp", output) < 0) {
			tmp = NULL;
			fprintf(stderr, "actgate: export: %s\n", strerror(ENOMEM));
			ret = EXIT_FAIL;
			goto out;
		}
		out = fopen(tmp, "we");
		if (!out) {
			fprintf(stderr, "actgate: export: %s: %s\n", tmp, strerror(errno));
			out = stdout;
			ret = EXIT_FAIL;
			goto out;
		}
	}
	ret = export_run(&o, format, out, stderr) ? EXIT_FAIL : 0;
	if (output) {
		if (fclose(out) == EOF && !ret) {
			fprintf(stderr, "actgate: export: %s: %s\n", tmp, strerror(errno));
			ret = EXIT_FAIL;
		}
		out = stdout;
		if (!ret && rename(tmp, output) < 0) {
			fprintf(stderr, "actgate: export: %s: %s\n", output, strerror(errno));
			ret = EXIT_FAIL;
		}
		if (ret)
			unlink(tmp);
	}
out:
	free(tmp);
	free(fs.labels);
	return ret;
}
