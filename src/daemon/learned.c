/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The learned set (learned.h): a mirror of the kernel's map in two chained
 * hash tables over fixed arrays (entries by (workload, address), names by
 * text), whose array index is the id a record carries (name_id). Only
 * eviction and the sweep walk the whole table: eviction happens only when
 * the set is full, and is counted.
 */
#include "daemon/learned.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NONE UINT32_MAX

struct entry {
	struct actgate_learned_key key;
	struct actgate_learned val;
	uint32_t next;   /* the chain of its bucket, or the free list */
	bool used;
};

struct name {
	char *text;       /* NULL: a free id */
	uint32_t refs;    /* slots that carry this id */
	uint32_t next;    /* the chain of its bucket */
	uint64_t unused_since_ns; /* refs fell to 0 then; its id is kept until the grace is over */
};

struct learned_table {
	struct learned_store store;
	uint32_t max, nbuckets;          /* nbuckets: a power of 2 */
	struct entry *entries;           /* max of them */
	uint32_t *buckets, free_entry;
	struct name *names;              /* max_names; id = index + 1 (0: no name) */
	uint32_t max_names, *name_buckets, name_hint;
	struct learned_counts counts;
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static uint32_t key_bucket(const struct learned_table *t, const struct actgate_learned_key *k)
{
	uint64_t h = k->workload_id ^ (uint64_t)k->policy_id << 32, w;

	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, k->addr + i, 8);
		h = mix(h ^ w);
	}
	return (uint32_t)mix(h) & (t->nbuckets - 1);
}

static uint32_t name_bucket(const struct learned_table *t, const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (uint32_t)mix(h) & (t->nbuckets - 1);
}

int learned_open(struct learned_table **out, uint32_t max, const struct learned_store *store)
{
	struct learned_table *t;

	*out = NULL;
	if (!max || max > ACTGATE_MAX_LEARNED)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->store = *store;
	t->max = max;
	/* A name per entry is the common case; twice that leaves room for the grace. */
	t->max_names = 2 * max;
	for (t->nbuckets = 16; t->nbuckets < 2 * max; t->nbuckets <<= 1)
		;
	t->entries = calloc(max, sizeof(*t->entries));
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
	t->names = calloc(t->max_names, sizeof(*t->names));
	t->name_buckets = malloc(t->nbuckets * sizeof(*t->name_buckets));
	if (!t->entries || !t->buckets || !t->names || !t->name_buckets) {
		learned_close(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < t->nbuckets; i++)
		t->buckets[i] = t->name_buckets[i] = NONE;
	for (uint32_t i = 0; i < max; i++)
		t->entries[i].next = i + 1 < max ? i + 1 : NONE;
	t->free_entry = 0;
	*out = t;
	return 0;
}

void learned_close(struct learned_table *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; t->names && i < t->max_names; i++)
		free(t->names[i].text);
	free(t->entries);
	free(t->buckets);
	free(t->names);
	free(t->name_buckets);
	free(t);
}

/* ---- names ---- */

static uint32_t name_find(const struct learned_table *t, const char *text)
{
	for (uint32_t i = t->name_buckets[name_bucket(t, text)]; i != NONE; i = t->names[i].next)
		if (!strcmp(t->names[i].text, text))
			return i + 1;
	return 0;
}

/* The id of text (added when new); 0 when the table has no free id (counted). */
static uint32_t name_get(struct learned_table *t, const char *text, uint64_t now_ns)
{
	uint32_t id = name_find(t, text), b;

	if (id)
		return id;
	for (uint32_t n = 0; n < t->max_names; n++) {
		/* From where the last one was taken: ids go round before one is reused. */
		uint32_t i = (t->name_hint + n) % t->max_names;

		if (t->names[i].text)
			continue;
		t->name_hint = (i + 1) % t->max_names;
		t->names[i].text = strdup(text);
		if (!t->names[i].text)
			break;
		t->names[i].refs = 0;
		t->names[i].unused_since_ns = now_ns;
		b = name_bucket(t, text);
		t->names[i].next = t->name_buckets[b];
		t->name_buckets[b] = i;
		t->counts.names++;
		return i + 1;
	}
	t->counts.names_full++;
	return 0;
}

static void name_ref(struct learned_table *t, uint32_t id, int delta, uint64_t now_ns)
{
	if (!id || id > t->max_names || !t->names[id - 1].text)
		return;
	t->names[id - 1].refs += (uint32_t)delta;
	if (!t->names[id - 1].refs)
		t->names[id - 1].unused_since_ns = now_ns;
}

static void name_drop(struct learned_table *t, uint32_t i)
{
	uint32_t *p = &t->name_buckets[name_bucket(t, t->names[i].text)];

	while (*p != i)
		p = &t->names[*p].next;
	*p = t->names[i].next;
	free(t->names[i].text);
	t->names[i].text = NULL;
	t->counts.names--;
}

const char *learned_name(const struct learned_table *t, uint32_t name_id)
{
	if (!t || !name_id || name_id > t->max_names)
		return NULL;
	return t->names[name_id - 1].text;
}

/* ---- entries ---- */

static uint32_t entry_find(const struct learned_table *t, const struct actgate_learned_key *k)
{
	for (uint32_t i = t->buckets[key_bucket(t, k)]; i != NONE; i = t->entries[i].next)
		if (!memcmp(&t->entries[i].key, k, sizeof(*k)))
			return i;
	return NONE;
}

/* When the last of e's live slots ends (0: none live). */
static uint64_t entry_end(const struct entry *e)
{
	uint64_t end = 0;

	for (int s = 0; s < ACTGATE_LEARNED_PORTS; s++)
		if (e->val.port[s].expires_boot_ns > end)
			end = e->val.port[s].expires_boot_ns;
	return end;
}

/* Take entry i out of the kernel and the mirror, releasing its names. */
static void entry_remove(struct learned_table *t, uint32_t i, uint64_t now_ns)
{
	struct entry *e = &t->entries[i];
	uint32_t *p = &t->buckets[key_bucket(t, &e->key)];

	/* A failed delete leaves an entry that expires by itself in the kernel. */
	t->store.remove(t->store.ctx, &e->key);
	for (int s = 0; s < ACTGATE_LEARNED_PORTS; s++)
		if (e->val.port[s].expires_boot_ns)
			name_ref(t, e->val.port[s].name_id, -1, now_ns);
	while (*p != i)
		p = &t->entries[*p].next;
	*p = e->next;
	memset(e, 0, sizeof(*e));
	e->next = t->free_entry;
	t->free_entry = i;
	t->counts.entries--;
}

/* A free entry, making room when full: expired entries first, else the one that ends first. */
static uint32_t entry_alloc(struct learned_table *t, uint64_t now_ns)
{
	uint32_t i, victim = NONE;
	uint64_t first = UINT64_MAX;

	if (t->free_entry == NONE)
		learned_sweep(t, now_ns);
	if (t->free_entry == NONE) {
		for (i = 0; i < t->max; i++) {
			uint64_t end = entry_end(&t->entries[i]);

			if (t->entries[i].used && end < first) {
				first = end;
				victim = i;
			}
		}
		if (victim == NONE)
			return NONE;
		entry_remove(t, victim, now_ns);
		t->counts.evicted++;
	}
	i = t->free_entry;
	t->free_entry = t->entries[i].next;
	return i;
}

int learned_add(struct learned_table *t, uint64_t workload_id, uint32_t policy_id,
		const struct dns_address *a,
		const struct name_decision *d, uint32_t rule_id, uint32_t ttl, uint64_t now_ns)
{
	struct actgate_learned_key k;
	struct actgate_learned v;
	uint32_t i, name_id, b;
	uint64_t expires = now_ns + (uint64_t)ttl * 1000000000ull;
	int added = 0, removed_refs[ACTGATE_LEARNED_PORTS] = { 0 }, err;
	bool fresh;

	if (!d->port_count)
		return 0; /* nothing a connect could use */
	memset(&k, 0, sizeof(k));
	k.workload_id = workload_id;
	k.policy_id = policy_id;
	if (a->family == AF_INET) {
		k.addr[10] = k.addr[11] = 0xff;
		memcpy(k.addr + 12, a->addr, 4);
	} else if (a->family == AF_INET6) {
		memcpy(k.addr, a->addr, 16);
	} else {
		return -EAFNOSUPPORT;
	}
	name_id = name_get(t, d->name, now_ns);
	i = entry_find(t, &k);
	fresh = i == NONE;
	if (fresh)
		memset(&v, 0, sizeof(v));
	else
		v = t->entries[i].val;
	/* This name's earlier slots and every expired slot make way. */
	for (int s = 0; s < ACTGATE_LEARNED_PORTS; s++) {
		struct actgate_learned_port *p = &v.port[s];

		if (p->expires_boot_ns &&
		    (p->expires_boot_ns <= now_ns || (name_id && p->name_id == name_id))) {
			removed_refs[s] = 1;
			memset(p, 0, sizeof(*p));
		}
	}
	for (size_t r = 0; r < d->port_count; r++) {
		int s = 0;

		while (s < ACTGATE_LEARNED_PORTS && v.port[s].expires_boot_ns)
			s++;
		if (s == ACTGATE_LEARNED_PORTS) {
			t->counts.no_slot++;
			return -ENOSPC; /* v was a copy: nothing changed */
		}
		v.port[s] = (struct actgate_learned_port){
			.expires_boot_ns = expires, .name_id = name_id, .rule_id = rule_id,
			.port_lo = d->ports[r].port_lo, .port_hi = d->ports[r].port_hi,
			.protocol = d->ports[r].protocol, .mode = d->mode, .record = d->record };
		added++;
	}
	if (fresh) {
		i = entry_alloc(t, now_ns);
		if (i == NONE)
			return -ENOSPC;
	}
	err = t->store.put(t->store.ctx, &k, &v);
	if (err) {
		if (fresh) { /* back to the free list */
			t->entries[i].next = t->free_entry;
			t->free_entry = i;
		}
		return err;
	}
	if (!fresh) {
		for (int s = 0; s < ACTGATE_LEARNED_PORTS; s++)
			if (removed_refs[s])
				name_ref(t, t->entries[i].val.port[s].name_id, -1, now_ns);
	} else {
		t->entries[i].key = k;
		t->entries[i].used = true;
		b = key_bucket(t, &k);
		t->entries[i].next = t->buckets[b];
		t->buckets[b] = i;
		t->counts.entries++;
	}
	t->entries[i].val = v;
	name_ref(t, name_id, added, now_ns);
	t->counts.learned++;
	return 0;
}

void learned_sweep(struct learned_table *t, uint64_t now_ns)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->max; i++) {
		struct entry *e = &t->entries[i];

		if (e->used && entry_end(e) <= now_ns) {
			entry_remove(t, i, now_ns);
			t->counts.expired++;
		}
	}
	for (uint32_t i = 0; i < t->max_names; i++)
		if (t->names[i].text && !t->names[i].refs &&
		    now_ns - t->names[i].unused_since_ns >= LEARNED_NAME_GRACE_NS)
			name_drop(t, i);
}

void learned_forget(struct learned_table *t, uint64_t workload_id, uint64_t now_ns)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->max; i++)
		if (t->entries[i].used && (!workload_id || t->entries[i].key.workload_id == workload_id))
			entry_remove(t, i, now_ns);
}

void learned_get_counts(const struct learned_table *t, struct learned_counts *c)
{
	*c = t ? t->counts : (struct learned_counts){ 0 };
}
