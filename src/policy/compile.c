/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The compiler: a policy set -> policy images -> effective policies (see
 * compile.h). Every step sorts and then scans, so that a policy of 100,000
 * rules compiles in well under a second (tests/bench/bench_compile.c).
 *
 * This file makes images (policy_compile) and composes effective policies;
 * compile-image.c gives rule ids and resolves paths, compile-paths.c and
 * compile-net.c compile an effective policy's path and IP rules, and
 * compile-internal.h is what they share.
 */
#include <linux/types.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/compile-internal.h"

int compile_grow(void **items, size_t *cap, size_t need, size_t item_size)
{
	size_t new_cap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (new_cap < need)
		new_cap *= 2;
	p = realloc(*items, new_cap * item_size);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = new_cap;
	return 0;
}

/* ---- decisions and how they compose ---- */

static struct decision default_of(const struct build *b, uint32_t pos, uint8_t action)
{
	const struct policy *p = policy_at(b, pos);
	struct section_view s = section_of(p, action);
	uint32_t id = b->img->bases[b->sel[pos].index].default_id[action];
	int overlay;
	uint8_t verdict = policy_section_default(s.base_default, s.overlays, s.overlay_count,
						 b->sel[pos].active[action], &overlay);

	if (overlay != POLICY_BASE)
		id += 1 + (uint32_t)overlay;
	return rule_decision(id, verdict, p->mode, p->record, pos);
}

/* Sorting positions by their defaults needs the build: qsort_r carries it. */
static int compare_default_order(const void *x, const void *y, void *ctx)
{
	const struct decision *a = ctx;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;

	if (beats(&a[i], &a[j]))
		return -1;
	return beats(&a[j], &a[i]) ? 1 : 0;
}

static int build_init(struct build *b, struct policy_image *img,
		      const struct policy_selection *sel, size_t count, uint32_t policy_id,
		      struct diag_list *diags)
{
	memset(b, 0, sizeof(*b));
	b->img = img;
	b->sel = sel;
	b->count = count;
	b->policy_id = policy_id;
	b->diags = diags;
	b->defaults = calloc(ACTGATE_NR_POLICY_ACTIONS * count, sizeof(*b->defaults));
	b->default_order = calloc(ACTGATE_NR_POLICY_ACTIONS * count, sizeof(*b->default_order));
	b->seen = calloc(count, sizeof(*b->seen));
	if (!b->defaults || !b->default_order || !b->seen)
		return -ENOMEM;
	for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
		uint8_t action = path_actions[a];
		uint32_t *order = &b->default_order[(size_t)action * count];

		for (uint32_t pos = 0; pos < count; pos++) {
			b->defaults[(size_t)action * count + pos] = default_of(b, pos, action);
			order[pos] = pos;
		}
		qsort_r(order, count, sizeof(*order), compare_default_order,
			&b->defaults[(size_t)action * count]);
	}
	return 0;
}

static void build_free(struct build *b)
{
	free(b->defaults);
	free(b->default_order);
	free(b->seen);
}

/* ---- effective policies ---- */

/*
 * The creation of a raw or packet socket (enum actgate_socket_kind): each
 * policy allows it when its sockets list names the kind and denies it
 * otherwise, in its own mode; they compose like every decision.
 */
static struct actgate_decision_slot socket_slot(const struct build *b, unsigned kind)
{
	struct decision best = { 0 };

	for (uint32_t pos = 0; pos < b->count; pos++) {
		const struct policy *p = policy_at(b, pos);
		uint8_t verdict = p->connect.sockets & (1u << kind) ? ACTGATE_VERDICT_ALLOW
								    : ACTGATE_VERDICT_DENY;
		struct decision d = rule_decision(b->img->bases[b->sel[pos].index].sockets_id + kind -
							  ACTGATE_SOCKET_RAW,
						  verdict, p->mode, p->record, pos);

		if (pos == 0 || beats(&d, &best))
			best = d;
	}
	return slot_of(&best);
}

/*
 * exec's decision on written and anonymous files: each policy that says
 * `written: deny` denies them in its own mode; they compose like every
 * decision. Not set when no policy of the key asks.
 */
static struct actgate_decision_slot written_slot(const struct build *b)
{
	struct decision best = { 0 };
	bool any = false;

	for (uint32_t pos = 0; pos < b->count; pos++) {
		const struct policy *p = policy_at(b, pos);
		struct decision d;

		if (p->exec.written != ACTGATE_VERDICT_DENY)
			continue;
		d = rule_decision(b->img->bases[b->sel[pos].index].written_id, ACTGATE_VERDICT_DENY,
				  p->mode, p->record, pos);
		if (!any || beats(&d, &best))
			best = d;
		any = true;
	}
	return any ? slot_of(&best) : (struct actgate_decision_slot){ 0 };
}

/*
 * Compile the effective policy of b's key into the image's arrays and hdr.
 * Returns 0, 1 when it cannot be enforced (reported), or -errno.
 */
static int compile_effective(struct build *b, struct actgate_policy *hdr, bool nets_only)
{
	bool failed = false;
	int err;

	memset(hdr, 0, sizeof(*hdr));
	hdr->generation = b->img->generation;
	/* Policies compose as intersection: a door is open only when every one allows it. */
	hdr->kernel_allow = b->count ? ~0u : 0;
	for (uint32_t pos = 0; pos < b->count; pos++)
		hdr->kernel_allow &= policy_at(b, pos)->kernel_allow;
	for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
		uint8_t action = path_actions[a];
		struct actgate_action_policy *ap = &hdr->action[action];
		const struct decision *d = NULL;

		/* The composed default: the first of the order, as no rule is in play. */
		if (b->count)
			d = default_at(b, action, b->default_order[(size_t)action * b->count]);
		for (unsigned slot = 0; d && slot < ACTGATE_ACCESS_SLOTS; slot++)
			ap->dflt[slot] = slot_of(d);
		if (action == ACTGATE_ACTION_CONNECT && b->count)
			for (unsigned kind = ACTGATE_SOCKET_RAW; kind <= ACTGATE_SOCKET_PACKET; kind++)
				ap->dflt[kind] = socket_slot(b, kind);
		if (action == ACTGATE_ACTION_EXEC)
			ap->dflt[ACTGATE_EXEC_WRITTEN_SLOT] = written_slot(b);
		err = nets_only ? 0 : compile_paths(b, action, ap);
		if (!err && action == ACTGATE_ACTION_CONNECT && d)
			err = compile_nets(b, d, ap, &failed);
		if (err)
			return err;
	}
	return failed ? 1 : 0;
}

/* Does any policy of the selection ask for strict recording? */
static bool selection_strict(const struct policy_image *img, const struct policy_selection *sel,
			     size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (img->set_policies[sel[i].index].record == ACTGATE_RECORD_STRICT)
			return true;
	return false;
}

/*
 * Strict recording composes like a denial: one policy that asks for it
 * takes away every action that cannot be recorded, whichever policy's
 * decision is recorded. So every decision of the effective policy is made
 * strict, its defaults, path entries and address rules alike.
 */
static void make_strict(struct policy_image *img, struct effective_policy *ep)
{
	for (size_t a = 0; a < ACTGATE_NR_POLICY_ACTIONS; a++)
		for (size_t s = 0; s < ACTGATE_ACCESS_SLOTS; s++)
			ep->header.action[a].dflt[s].record = ACTGATE_RECORD_STRICT;
	for (size_t i = ep->path_first; i < ep->path_first + ep->path_count; i++)
		for (size_t s = 0; s < ACTGATE_ACCESS_SLOTS; s++)
			img->paths[i].value.slot[s].record = ACTGATE_RECORD_STRICT;
	for (size_t i = ep->net_first; i < ep->net_first + ep->net_count; i++)
		for (size_t r = 0; r < ACTGATE_NET_RULES_PER_PREFIX; r++)
			img->nets[i].value.rule[r].record = ACTGATE_RECORD_STRICT;
}

static bool same_key(const struct effective_policy *ep, const struct policy_selection *sel,
		     size_t count)
{
	return ep->sel_count == count && !memcmp(ep->sel, sel, count * sizeof(*sel));
}

int policy_image_effective(struct policy_image *img, const struct policy_selection *sel,
			   size_t count, size_t *index, bool *added, struct diag_list *diags)
{
	size_t paths = img->path_count, nets = img->net_count;
	struct effective_policy ep = { 0 };
	struct build b;
	int err;

	*added = false;
	if (count == 0)
		return -EINVAL;
	for (size_t i = 0; i < count; i++)
		if (sel[i].index >= img->set_count || (i && sel[i].index <= sel[i - 1].index))
			return -EINVAL;
	for (size_t i = 0; i < img->policy_count; i++) {
		if (same_key(&img->policies[i], sel, count)) {
			*index = i;
			return 0;
		}
	}
	if (img->policy_count >= POLICY_MAX_PER_GENERATION)
		return -ENOSPC;
	err = compile_grow((void **)&img->policies, &img->policy_cap, img->policy_count + 1,
		   sizeof(*img->policies));
	if (err)
		return err;
	ep.policy_id = policy_id_of(img->generation, img->policy_count);
	ep.sel = calloc(count ? count : 1, sizeof(*ep.sel));
	if (!ep.sel)
		return -ENOMEM;
	memcpy(ep.sel, sel, count * sizeof(*sel));
	ep.sel_count = count;
	ep.path_first = paths;
	ep.net_first = nets;
	err = build_init(&b, img, sel, count, ep.policy_id, diags);
	if (!err)
		err = compile_effective(&b, &ep.header, false);
	build_free(&b);
	if (err) {
		/* Take back what was appended: the image is as it was. */
		img->path_count = paths;
		img->net_count = nets;
		free(ep.sel);
		return err > 0 ? -EINVAL : err;
	}
	ep.path_count = img->path_count - paths;
	ep.net_count = img->net_count - nets;
	if (selection_strict(img, sel, count))
		make_strict(img, &ep);
	img->policies[img->policy_count] = ep;
	*index = img->policy_count++;
	*added = true;
	return 0;
}

void policy_image_drop_last(struct policy_image *img)
{
	struct effective_policy *ep;

	if (img->policy_count == 0)
		return;
	ep = &img->policies[--img->policy_count];
	/* Its entries are the last ones appended. */
	img->path_count = ep->path_first;
	img->net_count = ep->net_first;
	free(ep->sel);
	memset(ep, 0, sizeof(*ep));
}

const struct effective_policy *policy_image_find(const struct policy_image *img,
						 uint32_t policy_id)
{
	size_t i = policy_id_index(policy_id);

	if (policy_id_generation(policy_id) != img->generation || i >= img->policy_count)
		return NULL;
	return &img->policies[i];
}

int policy_selection_of(const struct policy_set *set, const struct workload_identity *id,
			const struct signal_view *signals, struct policy_selection **sel,
			size_t *count)
{
	size_t *indices = NULL, n;
	struct policy_selection *out = NULL;
	int err = 0;

	*sel = NULL;
	*count = 0;
	indices = calloc(set->count ? set->count : 1, sizeof(*indices));
	if (!indices)
		return -ENOMEM;
	n = policy_set_select(set, id, indices, set->count);
	if (n == 0) {
		err = -ENOENT;
		goto out;
	}
	out = calloc(n, sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct policy *p = &set->policies[indices[i]];

		out[i].index = (uint32_t)indices[i];
		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			struct section_view s = section_of(p, path_actions[a]);

			out[i].active[path_actions[a]] =
				policy_overlays_active(s.overlays, s.overlay_count, signals);
		}
	}
	*sel = out;
	*count = n;
out:
	free(indices);
	return err;
}

/* ---- policy_compile: the image, and each policy alone ---- */

static uint32_t all_overlays(size_t count)
{
	return count >= 32 ? UINT32_MAX : (uint32_t)((1u << count) - 1);
}

/*
 * Each policy alone, with its base and with every overlay in force (the
 * most rules a prefix can carry): what cannot be enforced for any workload
 * is reported now. Only IP rules can fail to compile (too many decisions
 * under a prefix), so only they are compiled here, and taken back.
 */
static int check_each(struct policy_image *img, struct diag_list *diags, bool *failed)
{
	for (size_t i = 0; i < img->set_count; i++) {
		struct policy_selection sel[2] = { { .index = (uint32_t)i }, { .index = (uint32_t)i } };
		const struct policy *p = &img->set_policies[i];
		size_t overlays = p->connect.overlay_count;

		sel[1].active[ACTGATE_ACTION_CONNECT] = all_overlays(overlays);
		for (size_t k = 0; k < (overlays ? 2u : 1u); k++) {
			size_t nets = img->net_count, added;
			struct actgate_policy hdr;
			struct build b;
			int err;

			err = build_init(&b, img, &sel[k], 1, policy_id_of(img->generation, 0), diags);
			if (!err)
				err = compile_effective(&b, &hdr, true);
			build_free(&b);
			added = img->net_count - nets;
			if (k == 0)
				img->checked_net_entries += added;
			img->net_count = nets;
			if (err < 0)
				return err;
			/* Refused now, not when `actgate run` would find the kernel's map full. */
			if (!err && added > POLICY_MAX_NET_ENTRIES) {
				err = diag_add(diags, DIAG_ERROR, p->file, p->pos.line, p->pos.col,
					       "policy %s: connect rules on %zu address prefixes%s; "
					       "the kernel holds at most %u for one policy",
					       p->name, added, k ? " with every overlay in force" : "",
					       POLICY_MAX_NET_ENTRIES);
				if (err)
					return err;
				err = 1;
			}
			if (err) {
				*failed = true;
				break; /* one report per policy is enough */
			}
		}
	}
	return 0;
}

int policy_compile(const struct policy_set *set, uint32_t generation, path_resolver_fn resolve,
		   void *resolve_ctx, struct policy_image *img, struct diag_list *diags)
{
	bool failed = false;
	int err;

	memset(img, 0, sizeof(*img));
	if (generation == 0 || generation > POLICY_MAX_GENERATION)
		return -ERANGE;
	img->generation = generation;
	img->set_policies = set->policies;
	img->set_count = set->count;
	err = image_assign_rule_ids(img);
	if (!err)
		err = image_resolve_all(img, resolve, resolve_ctx, diags, &failed);
	for (size_t i = 0; !err && i < set->count; i++) {
		int n = name_rules_check_enforceable(&set->policies[i], diags);

		if (n < 0)
			err = n;
		else if (n > 0)
			failed = true;
	}
	if (!err && !failed)
		err = check_each(img, diags, &failed);
	if (!err && failed)
		err = -EINVAL;
	if (err)
		policy_image_free(img);
	return err;
}
