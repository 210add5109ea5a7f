/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A policy image (compile.h): every rule and default of a set with its id,
 * every path rule resolved to the file it names (and, followed, the files it
 * named before), and the names records give them.
 */
#include <linux/types.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "policy/compile-internal.h"

int resolve_path_stat(const char *path, struct resolved_path *out, void *ctx)
{
	struct stat st;

	(void)ctx;
	if (stat(path, &st) < 0)
		return -errno;
	/* The kernel's internal dev_t: major in the top 12 bits, minor in the low 20. */
	out->dev = (uint32_t)((major(st.st_dev) << 20) | minor(st.st_dev));
	out->ino = st.st_ino;
	out->type = st.st_mode & S_IFMT;
	return 0;
}

static const char *section_name(uint8_t action)
{
	return action == ACTGATE_ACTION_EXEC ? "exec" : action == ACTGATE_ACTION_OPEN ? "open"
										      : "connect";
}

/* Where a rule is written, as the parser names it: "spec.open.when[0].deny[2]". */
static void rule_where(char *buf, size_t size, uint8_t action, int overlay, uint8_t verdict,
		       unsigned index)
{
	char scope[32] = "";

	if (overlay != POLICY_BASE)
		snprintf(scope, sizeof(scope), ".when[%d]", overlay);
	snprintf(buf, size, "spec.%s%s.%s[%u]", section_name(action), scope,
		 verdict == ACTGATE_VERDICT_DENY ? "deny" : "allow", index);
}

/* ---- the image: rule ids and resolved paths ---- */

/*
 * Resolve one rule's path into *out. Returns 0 (also for a path that does
 * not exist: warned, out->found false), 1 after reporting an error, or
 * -ENOMEM.
 */
static int resolve_rule(const struct policy *p, uint8_t action, const struct path_rule *r,
			path_resolver_fn resolve, void *resolve_ctx, struct resolved_rule *out,
			struct diag_list *diags)
{
	const char *unix_prefix = action == ACTGATE_ACTION_CONNECT ? "unix:" : "";
	const char *slash = r->subtree && strcmp(r->path, "/") ? "/" : "";
	struct resolved_path rp = { 0 };
	char where[96];
	int err;

	memset(out, 0, sizeof(*out));
	/* The parser refuses them too; rules made outside a policy file reach here. */
	if (policy_path_names_own_process(r->path)) {
		rule_where(where, sizeof(where), action, r->overlay, r->verdict, r->index);
		err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			       "%s: %s%s%s names a process's own /proc files; the daemon resolves "
			       "rules to files when it loads them, so this would name the daemon's "
			       "own and never match a workload's (a subtree rule on /proc/ covers "
			       "every process)",
			       where, unix_prefix, r->path, slash);
		return err ? err : 1;
	}
	err = resolve(r->path, &rp, resolve_ctx);
	/* Named only for a message: most rules need none. */
	if (err || (r->subtree && rp.type != S_IFDIR) ||
	    (action == ACTGATE_ACTION_CONNECT && !r->subtree && rp.type != S_IFSOCK))
		rule_where(where, sizeof(where), action, r->overlay, r->verdict, r->index);
	if (err == -ENOENT) {
		err = diag_add(diags, DIAG_WARNING, p->file, r->pos.line, r->pos.col,
			       "%s: %s%s%s: no such file or directory: the rule matches nothing "
			       "until the path exists%s",
			       where, unix_prefix, r->path, slash,
			       r->verdict == ACTGATE_VERDICT_DENY
				       ? " (actgated follows deny rules' paths)"
				       : " and the policy is loaded again (allow rules do not follow "
					 "their paths)");
		return err;
	}
	if (err) {
		err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			       "%s: %s%s%s: cannot resolve: %s", where, unix_prefix, r->path, slash,
			       strerror(-err));
		return err ? err : 1;
	}
	if (r->subtree && rp.type != S_IFDIR) {
		err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			       "%s: %s%s/: a trailing '/' means a directory's subtree, but this is "
			       "not a directory",
			       where, unix_prefix, r->path);
		return err ? err : 1;
	}
	if (action == ACTGATE_ACTION_CONNECT && !r->subtree && rp.type != S_IFSOCK) {
		err = diag_add(diags, DIAG_ERROR, p->file, r->pos.line, r->pos.col,
			       "%s: unix:%s is not a unix socket, so no connection can reach it; "
			       "name the socket file (or a directory of sockets, with a trailing '/')",
			       where, r->path);
		return err ? err : 1;
	}
	out->dev = rp.dev;
	out->ino = rp.ino;
	out->found = true;
	return 0;
}

static struct image_rule *add_rule(struct policy_image *img, uint32_t policy, uint8_t action,
				   int verdict, int overlay, unsigned index)
{
	struct image_rule *r = &img->rules[img->rule_count++];

	*r = (struct image_rule){ .policy = policy, .action = action, .verdict = (int8_t)verdict,
				  .overlay = (int16_t)overlay, .index = index };
	return r;
}

int image_assign_rule_ids(struct policy_image *img)
{
	size_t rules = 1, paths = 0;

	for (size_t i = 0; i < img->set_count; i++) {
		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			struct section_view s = section_of(&img->set_policies[i], path_actions[a]);

			rules += 1 + s.overlay_count + s.path_count + s.net_count;
			paths += s.path_count;
		}
		rules += ACTGATE_SOCKET_PACKET - ACTGATE_SOCKET_RAW + 1;
		rules += 1; /* exec's written decision */
		rules += img->set_policies[i].connect.name_count;
	}
	if (rules > UINT32_MAX)
		return -E2BIG;
	img->bases = calloc(img->set_count, sizeof(*img->bases));
	img->rules = calloc(rules, sizeof(*img->rules));
	img->resolved = calloc(paths ? paths : 1, sizeof(*img->resolved));
	if (!img->bases || !img->rules || !img->resolved)
		return -ENOMEM;
	img->rule_count = 1; /* id 0 names no rule */
	for (size_t i = 0; i < img->set_count; i++) {
		struct image_policy_base *b = &img->bases[i];

		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			uint8_t action = path_actions[a];
			struct section_view s = section_of(&img->set_policies[i], action);

			b->default_id[action] = (uint32_t)img->rule_count;
			add_rule(img, (uint32_t)i, action, RULE_DEFAULT, POLICY_BASE, 0);
			for (size_t k = 0; k < s.overlay_count; k++)
				add_rule(img, (uint32_t)i, action, RULE_DEFAULT, (int)k, 0);
			b->rule_id[action] = (uint32_t)img->rule_count;
			for (size_t k = 0; k < s.net_count; k++)
				add_rule(img, (uint32_t)i, action, s.nets[k].verdict, s.nets[k].overlay,
					 s.nets[k].index);
			if (action == ACTGATE_ACTION_CONNECT)
				b->unix_rule_id = (uint32_t)img->rule_count;
			for (size_t k = 0; k < s.path_count; k++)
				add_rule(img, (uint32_t)i, action, s.paths[k].verdict,
					 s.paths[k].overlay, s.paths[k].index);
			b->resolved[action] = img->resolved_count;
			img->resolved_count += s.path_count;
		}
		b->sockets_id = (uint32_t)img->rule_count;
		for (unsigned kind = ACTGATE_SOCKET_RAW; kind <= ACTGATE_SOCKET_PACKET; kind++)
			add_rule(img, (uint32_t)i, ACTGATE_ACTION_CONNECT, RULE_SOCKETS, POLICY_BASE,
				 kind);
		b->written_id = (uint32_t)img->rule_count;
		add_rule(img, (uint32_t)i, ACTGATE_ACTION_EXEC, RULE_WRITTEN, POLICY_BASE, 0);
		/* Rules by name: ids for the records of lookups and of learned addresses. */
		b->name_rule_id = (uint32_t)img->rule_count;
		for (size_t k = 0; k < img->set_policies[i].connect.name_count; k++) {
			const struct name_rule *r = &img->set_policies[i].connect.name_rules[k];

			add_rule(img, (uint32_t)i, ACTGATE_ACTION_CONNECT, r->verdict, r->overlay,
				 r->index);
		}
	}
	return 0;
}

int image_resolve_all(struct policy_image *img, path_resolver_fn resolve, void *resolve_ctx,
		      struct diag_list *diags, bool *failed)
{
	for (size_t i = 0; i < img->set_count; i++) {
		const struct policy *p = &img->set_policies[i];
		size_t found = 0; /* at most one kernel entry each */

		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			uint8_t action = path_actions[a];
			struct section_view s = section_of(p, action);
			struct resolved_rule *out = &img->resolved[img->bases[i].resolved[action]];

			for (size_t k = 0; k < s.path_count; k++) {
				int err = resolve_rule(p, action, &s.paths[k], resolve, resolve_ctx,
						       &out[k], diags);

				if (err < 0)
					return err;
				if (err)
					*failed = true;
				else if (out[k].found)
					found++;
			}
		}
		img->checked_path_rules += found;
		/* Refused now, not when `actgate run` would find the kernel's map full. */
		if (found > POLICY_MAX_PATH_ENTRIES) {
			int err = diag_add(diags, DIAG_ERROR, p->file, p->pos.line, p->pos.col,
					   "policy %s: %zu path rules (exec, open and unix connect "
					   "rules that name existing files); the kernel holds at most "
					   "%u for one policy",
					   p->name, found, POLICY_MAX_PATH_ENTRIES);

			if (err)
				return err;
			*failed = true;
		}
	}
	return 0;
}

int policy_image_for_each_path(const struct policy_image *img, image_path_fn fn, void *ctx)
{
	for (size_t i = 0; i < img->set_count; i++) {
		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			struct section_view s = section_of(&img->set_policies[i], path_actions[a]);
			const struct resolved_rule *r =
				&img->resolved[img->bases[i].resolved[path_actions[a]]];

			for (size_t k = 0; k < s.path_count; k++) {
				int err = fn(&s.paths[k], &r[k], ctx);

				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* The identities a deny rule keeps: its file now, and every one of prev's. */
static int follow_deny(struct resolved_rule *next, const struct resolved_rule *prev,
		       struct path_identity **out, size_t *out_count)
{
	size_t max = prev->earlier_count + 1, n = 0;
	struct path_identity *ids = calloc(max, sizeof(*ids));

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < prev->earlier_count; i++)
		if (!(next->found && next->dev == prev->earlier[i].dev &&
		      next->ino == prev->earlier[i].ino))
			ids[n++] = prev->earlier[i];
	if (prev->found && !(next->found && next->dev == prev->dev && next->ino == prev->ino))
		ids[n++] = (struct path_identity){ .dev = prev->dev, .ino = prev->ino };
	*out = ids;
	*out_count = n;
	return 0;
}

int policy_image_follow(struct policy_image *next, const struct policy_image *prev)
{
	struct path_identity **earlier = NULL;
	size_t *counts = NULL, r;
	int err = 0;

	if (next->set_count != prev->set_count || next->resolved_count != prev->resolved_count ||
	    next->policy_count)
		return -EINVAL;
	earlier = calloc(next->resolved_count + 1, sizeof(*earlier));
	counts = calloc(next->resolved_count + 1, sizeof(*counts));
	if (!earlier || !counts) {
		err = -ENOMEM;
		goto out;
	}
	/* Everything is prepared first, so that a failure leaves next as it was. */
	for (size_t i = 0; i < next->set_count && !err; i++) {
		for (size_t a = 0; a < ARRAY_SIZE(path_actions) && !err; a++) {
			struct section_view s = section_of(&next->set_policies[i], path_actions[a]);
			size_t first = next->bases[i].resolved[path_actions[a]];

			if (first != prev->bases[i].resolved[path_actions[a]]) {
				err = -EINVAL;
				break;
			}
			for (size_t k = 0; k < s.path_count && !err; k++) {
				if (s.paths[k].verdict == ACTGATE_VERDICT_DENY)
					err = follow_deny(&next->resolved[first + k],
							  &prev->resolved[first + k],
							  &earlier[first + k], &counts[first + k]);
			}
		}
	}
	if (err)
		goto out;
	for (size_t i = 0; i < next->set_count; i++) {
		for (size_t a = 0; a < ARRAY_SIZE(path_actions); a++) {
			struct section_view s = section_of(&next->set_policies[i], path_actions[a]);
			size_t first = next->bases[i].resolved[path_actions[a]];

			for (size_t k = 0; k < s.path_count; k++) {
				struct resolved_rule *nr = &next->resolved[first + k];

				if (s.paths[k].verdict != ACTGATE_VERDICT_DENY) {
					nr->found = prev->resolved[first + k].found;
					nr->dev = prev->resolved[first + k].dev;
					nr->ino = prev->resolved[first + k].ino;
					continue;
				}
				free(nr->earlier);
				nr->earlier = earlier[first + k];
				nr->earlier_count = counts[first + k];
				earlier[first + k] = NULL;
			}
		}
	}
out:
	for (r = 0; earlier && r < next->resolved_count; r++)
		free(earlier[r]);
	free(earlier);
	free(counts);
	return err;
}

/* ---- names ---- */

int policy_image_rule_name(const struct policy_image *img, uint32_t rule_id, char *buf,
			   size_t size)
{
	const struct image_rule *r;

	if (size)
		buf[0] = '\0';
	if (rule_id == 0 || rule_id >= img->rule_count)
		return -ENOENT;
	r = &img->rules[rule_id];
	policy_rule_name(buf, size, img->set_policies[r->policy].name, r->action, r->overlay,
			 r->verdict, r->index);
	return 0;
}

const char *policy_image_rule_policy(const struct policy_image *img, uint32_t rule_id)
{
	if (rule_id == 0 || rule_id >= img->rule_count)
		return NULL;
	return img->set_policies[img->rules[rule_id].policy].name;
}

int policy_image_policy_names(const struct policy_image *img, uint32_t policy_id, char *buf,
			      size_t size)
{
	const struct effective_policy *ep = policy_image_find(img, policy_id);
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; ep && i < ep->sel_count; i++) {
		int w = snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, "%s%s", i ? "," : "",
				 img->set_policies[ep->sel[i].index].name);

		if (w < 0)
			return w;
		n += (size_t)w;
	}
	return (int)n;
}

void policy_image_free(struct policy_image *img)
{
	for (size_t i = 0; i < img->policy_count; i++)
		free(img->policies[i].sel);
	free(img->policies);
	free(img->bases);
	free(img->rules);
	for (size_t i = 0; img->resolved && i < img->resolved_count; i++)
		free(img->resolved[i].earlier);
	free(img->resolved);
	free(img->paths);
	free(img->nets);
	memset(img, 0, sizeof(*img));
}
