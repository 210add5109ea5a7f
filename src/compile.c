/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#include <linux/types.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "compile.h"

/* Growable arrays of the image, and the rule-name table. */
struct image_builder {
	struct policy_image *img;
	size_t path_cap;
	size_t net_cap;
	size_t rule_cap;
};

int resolve_path_stat(const char *path, uint32_t *dev, uint64_t *ino, int *is_dir, void *ctx)
{
	struct stat st;

	(void)ctx;
	if (stat(path, &st) < 0)
		return -errno;
	/* The kernel's internal dev_t: major in the top 12 bits, minor in the low 20. */
	*dev = (uint32_t)((major(st.st_dev) << 20) | minor(st.st_dev));
	*ino = st.st_ino;
	*is_dir = S_ISDIR(st.st_mode);
	return 0;
}

static int grow(void **items, size_t *cap, size_t count, size_t item_size)
{
	size_t new_cap;
	void *p;

	if (count < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 64;
	p = realloc(*items, new_cap * item_size);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = new_cap;
	return 0;
}

/* Add a rule's name (see rule_name_format); returns the new rule id (> 0) or -ENOMEM. */
static int64_t add_rule_name(struct image_builder *b, const char *policy, uint8_t action,
			     int verdict, unsigned index)
{
	struct policy_image *img = b->img;
	char name[256];
	int err;

	if (img->rule_count == 0) {
		/* Rule id 0 means "no rule": keep the slot, empty. */
		err = grow((void **)&img->rule_names, &b->rule_cap, 0, sizeof(char *));
		if (err)
			return err;
		img->rule_names[0] = NULL;
		img->rule_count = 1;
	}
	err = grow((void **)&img->rule_names, &b->rule_cap, img->rule_count, sizeof(char *));
	if (err)
		return err;
	rule_name_format(name, sizeof(name), policy, action, verdict, index);
	img->rule_names[img->rule_count] = strdup(name);
	if (!img->rule_names[img->rule_count])
		return -ENOMEM;
	return (int64_t)img->rule_count++;
}

static const char *section_name(uint8_t action)
{
	switch (action) {
	case ACTGATE_ACTION_EXEC:
		return "exec";
	case ACTGATE_ACTION_OPEN:
		return "open";
	case ACTGATE_ACTION_CONNECT:
		return "connect";
	}
	return "?";
}

int rule_name_format(char *buf, size_t size, const char *policy, uint8_t action, int verdict,
		     unsigned index)
{
	if (verdict == RULE_DEFAULT)
		return snprintf(buf, size, "%s:%s.default", policy, section_name(action));
	return snprintf(buf, size, "%s:%s.%s[%u]", policy, section_name(action),
			verdict == ACTGATE_VERDICT_DENY ? "deny" : "allow", index);
}

static int add_path_entry(struct image_builder *b, const struct actgate_path_key *key,
			  uint8_t verdict, uint32_t rule_id)
{
	struct policy_image *img = b->img;
	int err;

	err = grow((void **)&img->paths, &b->path_cap, img->path_count, sizeof(*img->paths));
	if (err)
		return err;
	memset(&img->paths[img->path_count], 0, sizeof(img->paths[0]));
	img->paths[img->path_count].key = *key;
	img->paths[img->path_count].value.verdict = verdict;
	img->paths[img->path_count].value.rule_id = rule_id;
	img->path_count++;
	return 0;
}

static int compare_path_entries(const void *a, const void *b)
{
	const struct image_path_entry *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	if (c)
		return c;
	/* Equal keys: the one that wins first (deny, then the earlier rule). */
	if (x->value.verdict != y->value.verdict)
		return x->value.verdict == ACTGATE_VERDICT_DENY ? -1 : 1;
	return x->value.rule_id < y->value.rule_id ? -1 : x->value.rule_id > y->value.rule_id;
}

/*
 * Several rules may land on one key (the same path in allow and deny, or two
 * paths naming one inode through a hard link or symlink): deny wins the tie,
 * otherwise the earlier rule. Sorting puts the winner first in each run of
 * equal keys; O(n log n), so large rule sets compile quickly.
 */
static void merge_path_entries(struct policy_image *img)
{
	size_t out = 0;

	if (img->path_count == 0)
		return;
	qsort(img->paths, img->path_count, sizeof(*img->paths), compare_path_entries);
	for (size_t i = 1; i < img->path_count; i++) {
		if (memcmp(&img->paths[i].key, &img->paths[out].key, sizeof(img->paths[0].key)) != 0)
			img->paths[++out] = img->paths[i];
	}
	img->path_count = out + 1;
}

static int compile_path_rules(struct image_builder *b, const struct policy *p, uint32_t policy_id,
			      uint8_t action, const struct path_rules *rules,
			      struct actgate_action_policy *ap, path_resolver_fn resolve,
			      void *resolve_ctx, struct diag_list *diags)
{
	int64_t rule_id;
	size_t i;
	int err, failed = 0;

	ap->default_verdict = rules->default_verdict;
	rule_id = add_rule_name(b, p->name, action, RULE_DEFAULT, 0);
	if (rule_id < 0)
		return (int)rule_id;
	ap->default_rule_id = (uint32_t)rule_id;

	for (i = 0; i < rules->count; i++) {
		const struct path_rule *r = &rules->rules[i];
		struct actgate_path_key key = {0};
		uint32_t dev;
		uint64_t ino;
		int is_dir;

		rule_id = add_rule_name(b, p->name, action, r->verdict, r->index);
		if (rule_id < 0)
			return (int)rule_id;
		err = resolve(r->path, &dev, &ino, &is_dir, resolve_ctx);
		if (err == -ENOENT) {
			err = diag_add(diags, DIAG_WARNING, p->file, r->pos.line, r->pos.col,
				       "%s: no such file or directory: the rule matches nothing until "
				       "the path exists and the policy is loaded again",
				       r->path);
			if (err)
				return err;
			continue;
		}
		if (err) {
			err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
				       "%s: cannot resolve: %s", r->path, strerror(-err));
			if (err)
				return err;
			failed = 1;
			continue;
		}
		if (r->subtree && !is_dir) {
			err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
				       "%s/: a trailing '/' means a directory's subtree, but this is "
				       "not a directory",
				       r->path);
			if (err)
				return err;
			failed = 1;
			continue;
		}
		key.policy_id = policy_id;
		key.action = action;
		key.kind = r->subtree ? ACTGATE_PATH_SUBTREE : ACTGATE_PATH_EXACT;
		key.dev = dev;
		key.ino = ino;
		err = add_path_entry(b, &key, r->verdict, (uint32_t)rule_id);
		if (err)
			return err;
		ap->has_rules = 1;
		if (r->subtree)
			ap->has_subtree_rules = 1;
	}
	return failed ? -EINVAL : 0;
}

int net_rule_contains(const struct net_rule *outer, const uint8_t addr[16], unsigned len)
{
	unsigned full = outer->prefix_len / 8, rest = outer->prefix_len % 8;
	uint8_t mask;

	if (outer->prefix_len > len)
		return 0;
	if (memcmp(outer->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (outer->addr[full] & mask) == (addr[full] & mask);
}

int net_rule_more_specific(const struct net_rule *a, const struct net_rule *b)
{
	unsigned wa = (unsigned)a->port_hi - a->port_lo, wb = (unsigned)b->port_hi - b->port_lo;

	if (a->prefix_len != b->prefix_len)
		return a->prefix_len > b->prefix_len;
	if (wa != wb)
		return wa < wb;
	if (a->verdict != b->verdict)
		return a->verdict == ACTGATE_VERDICT_DENY;
	return a->index < b->index;
}

/* Order of a prefix index: by prefix length, then address. */
static int compare_prefix(const struct net_rule *a, const struct net_rule *b)
{
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len < b->prefix_len ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

static int compare_rule_ptrs(const void *a, const void *b)
{
	return compare_prefix(*(const struct net_rule *const *)a, *(const struct net_rule *const *)b);
}

/* addr with every bit after the first len bits cleared. */
static void mask_prefix(const uint8_t addr[16], unsigned len, uint8_t out[16])
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;

		out[i] = bits >= 8 ? addr[i] : (uint8_t)(addr[i] & (0xff00 >> bits));
	}
}

/* The first rule in a sorted index with exactly this prefix, or count. */
static size_t find_prefix(const struct net_rule *const *index, size_t count,
			  const struct net_rule *probe)
{
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (compare_prefix(index[mid], probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int compile_net_rules(struct image_builder *b, const struct policy *p, uint32_t policy_id,
			     const struct net_rules *rules, struct actgate_action_policy *ap,
			     struct diag_list *diags)
{
	struct policy_image *img = b->img;
	const struct net_rule **covering = NULL, **index = NULL;
	bool len_used[129] = { false };
	uint32_t *rule_ids = NULL;
	int64_t rule_id;
	size_t i, j, k;
	int err = 0, failed = 0;

	ap->default_verdict = rules->default_verdict;
	rule_id = add_rule_name(b, p->name, ACTGATE_ACTION_CONNECT, RULE_DEFAULT, 0);
	if (rule_id < 0)
		return (int)rule_id;
	ap->default_rule_id = (uint32_t)rule_id;
	if (rules->count == 0)
		return 0;

	covering = calloc(rules->count, sizeof(*covering));
	rule_ids = calloc(rules->count, sizeof(*rule_ids));
	index = calloc(rules->count, sizeof(*index));
	if (!covering || !rule_ids || !index) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < rules->count; i++) {
		const struct net_rule *r = &rules->rules[i];

		rule_id = add_rule_name(b, p->name, ACTGATE_ACTION_CONNECT, r->verdict, r->index);
		if (rule_id < 0) {
			err = (int)rule_id;
			goto out;
		}
		rule_ids[i] = (uint32_t)rule_id;
		index[i] = r;
		len_used[r->prefix_len] = true;
	}
	ap->has_rules = 1;
	/* Sorted by prefix: equal prefixes are neighbours, and any prefix is found fast. */
	qsort(index, rules->count, sizeof(*index), compare_rule_ptrs);

	/* One trie entry per distinct prefix, carrying every rule that covers it. */
	for (i = 0; i < rules->count; i++) {
		const struct net_rule *r = index[i];
		struct image_net_entry *e;
		size_t n = 0;

		if (i > 0 && compare_prefix(index[i - 1], r) == 0)
			continue;
		/*
		 * The rules covering r have r's address masked to some length up to
		 * its own; only lengths some rule has are worth a look.
		 */
		for (unsigned len = 0; len <= r->prefix_len; len++) {
			struct net_rule probe = { .prefix_len = (uint8_t)len };

			if (!len_used[len])
				continue;

			mask_prefix(r->addr, len, probe.addr);
			for (j = find_prefix(index, rules->count, &probe);
			     j < rules->count && compare_prefix(index[j], &probe) == 0; j++) {
				/* Past the limit only count: the prefix is refused below. */
				if (n++ >= ACTGATE_NET_RULES_PER_PREFIX)
					continue;
				/* Insertion sort: the lists that can be enforced are short. */
				k = n - 1;
				while (k > 0 && net_rule_more_specific(index[j], covering[k - 1])) {
					covering[k] = covering[k - 1];
					k--;
				}
				covering[k] = index[j];
			}
		}
		if (n > ACTGATE_NET_RULES_PER_PREFIX) {
			err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
				       "%s: %zu connect rules cover this prefix; at most %d can be "
				       "enforced for one prefix",
				       r->text, n, ACTGATE_NET_RULES_PER_PREFIX);
			if (err)
				goto out;
			failed = 1;
			continue;
		}
		err = grow((void **)&img->nets, &b->net_cap, img->net_count, sizeof(*img->nets));
		if (err)
			goto out;
		e = &img->nets[img->net_count++];
		memset(e, 0, sizeof(*e));
		e->key.prefixlen = 32 + r->prefix_len;
		e->key.policy_id = __builtin_bswap32(policy_id); /* big-endian, see abi.h */
		memcpy(e->key.addr, r->addr, 16);
		e->value.count = (uint32_t)n;
		for (k = 0; k < n; k++) {
			const struct net_rule *c = covering[k];

			e->value.rule[k].port_lo = c->port_lo;
			e->value.rule[k].port_hi = c->port_hi;
			e->value.rule[k].verdict = c->verdict;
			e->value.rule[k].rule_id = rule_ids[c - rules->rules];
		}
	}
	err = failed ? -EINVAL : 0;
out:
	free(covering);
	free(rule_ids);
	free(index);
	return err;
}

int policy_compile(const struct policy_set *set, uint32_t generation, path_resolver_fn resolve,
		   void *resolve_ctx, struct policy_image *img, struct diag_list *diags)
{
	struct image_builder b = { .img = img };
	size_t i;
	int err = 0, failed = 0;

	memset(img, 0, sizeof(*img));
	img->generation = generation;
	if (generation == 0 || generation > 0xffff || set->count > POLICY_MAX_PER_GENERATION)
		return -ERANGE;
	if (set->count == 0)
		return 0;
	img->policies = calloc(set->count, sizeof(*img->policies));
	if (!img->policies)
		return -ENOMEM;
	img->policy_count = set->count;

	for (i = 0; i < set->count; i++) {
		const struct policy *p = &set->policies[i];
		struct actgate_policy *cp = &img->policies[i];
		uint32_t policy_id = policy_id_of(generation, i);

		cp->generation = generation;
		cp->mode = p->mode;
		cp->record = p->record;
		err = compile_path_rules(&b, p, policy_id, ACTGATE_ACTION_EXEC, &p->exec,
					 &cp->action[ACTGATE_ACTION_EXEC], resolve, resolve_ctx, diags);
		if (err == -EINVAL)
			failed = 1;
		else if (err)
			goto fail;
		err = compile_path_rules(&b, p, policy_id, ACTGATE_ACTION_OPEN, &p->open,
					 &cp->action[ACTGATE_ACTION_OPEN], resolve, resolve_ctx, diags);
		if (err == -EINVAL)
			failed = 1;
		else if (err)
			goto fail;
		err = compile_net_rules(&b, p, policy_id, &p->connect,
					&cp->action[ACTGATE_ACTION_CONNECT], diags);
		if (err == -EINVAL)
			failed = 1;
		else if (err)
			goto fail;
	}
	if (!failed) {
		merge_path_entries(img);
		return 0;
	}
	err = -EINVAL;
fail:
	policy_image_free(img);
	return err;
}

const char *policy_image_rule_name(const struct policy_image *img, uint32_t rule_id)
{
	if (rule_id == 0 || rule_id >= img->rule_count)
		return NULL;
	return img->rule_names[rule_id];
}

void policy_image_free(struct policy_image *img)
{
	size_t i;

	for (i = 0; i < img->rule_count; i++)
		free(img->rule_names[i]);
	free(img->rule_names);
	free(img->policies);
	free(img->paths);
	free(img->nets);
	memset(img, 0, sizeof(*img));
}
