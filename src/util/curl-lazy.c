/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libcurl, loaded when it is first used rather than when a binary starts.
 * Linked, libcurl and the 30 libraries it needs (TLS, Kerberos, LDAP, ...)
 * cost every run of `actgate` some 12 million instructions of relocation
 * before main, although only `actgate export` to an OTLP sink and the
 * daemon's Shared Signals poller and export sinks ever use it; `actgate
 * revoke` must reach the daemon fast (issue 11). So the binaries do not
 * link it: these functions, the ones actgate calls, load libcurl.so.4 once
 * and pass each call on. When it cannot be loaded, every call fails as
 * libcurl's own do (NULL, CURLE_FAILED_INIT, CURLM_INTERNAL_ERROR) and
 * curl_easy_strerror says why, so callers report it as they report any
 * libcurl failure.
 */
#define CURL_DISABLE_TYPECHECK /* the definitions below would otherwise be macro calls */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define CURL_SONAME "libcurl.so.4"

struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	CURLcode (*easy_perform)(CURL *h);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *m);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_setopt)(CURLM *m, CURLMoption option, ...);
	CURLMcode (*multi_assign)(CURLM *m, curl_socket_t s, void *p);
	CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int mask, int *running);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
};

/*
 * Process-wide by nature, as libcurl's own state is: filled once under
 * pthread_once (the daemon's export threads may make the first call), then
 * only read. ok stays false when the library or a symbol is missing.
 */
static struct {
	pthread_once_t once;
	bool ok;
	char why[256];
	struct curl_api f;
} lazy = { .once = PTHREAD_ONCE_INIT };

static void *sym(void *lib, const char *name)
{
	void *p = dlsym(lib, name);

	if (!p && !lazy.why[0])
		snprintf(lazy.why, sizeof(lazy.why), "%s has no %s", CURL_SONAME, name);
	return p;
}

static void load(void)
{
	void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	struct curl_api *f = &lazy.f;

	if (!lib) {
		const char *e = dlerror();

		snprintf(lazy.why, sizeof(lazy.why), "cannot load %s: %s", CURL_SONAME,
			 e ? e : "unknown error");
		return;
	}
	/* A function pointer from dlsym's void *: POSIX guarantees the conversion. */
	*(void **)&f->global_init = sym(lib, "curl_global_init");
	*(void **)&f->easy_init = sym(lib, "curl_easy_init");
	*(void **)&f->easy_cleanup = sym(lib, "curl_easy_cleanup");
	*(void **)&f->easy_setopt = sym(lib, "curl_easy_setopt");
	*(void **)&f->easy_getinfo = sym(lib, "curl_easy_getinfo");
	*(void **)&f->easy_perform = sym(lib, "curl_easy_perform");
	*(void **)&f->easy_strerror = sym(lib, "curl_easy_strerror");
	*(void **)&f->slist_append = sym(lib, "curl_slist_append");
	*(void **)&f->slist_free_all = sym(lib, "curl_slist_free_all");
	*(void **)&f->multi_init = sym(lib, "curl_multi_init");
	*(void **)&f->multi_cleanup = sym(lib, "curl_multi_cleanup");
	*(void **)&f->multi_add_handle = sym(lib, "curl_multi_add_handle");
	*(void **)&f->multi_remove_handle = sym(lib, "curl_multi_remove_handle");
	*(void **)&f->multi_setopt = sym(lib, "curl_multi_setopt");
	*(void **)&f->multi_assign = sym(lib, "curl_multi_assign");
	*(void **)&f->multi_socket_action = sym(lib, "curl_multi_socket_action");
	*(void **)&f->multi_info_read = sym(lib, "curl_multi_info_read");
	/* Kept loaded for the life of the process, as a linked library would be. */
	lazy.ok = !lazy.why[0];
}

static bool loaded(void)
{
	pthread_once(&lazy.once, load);
	return lazy.ok;
}

/*
 * The variadic calls take one argument whose type the option's number
 * says (curl.h, CURLOPTTYPE_*): read it as that type and pass it on.
 */
#define PASS_OPTION(fn, handle, option, ap)                                        \
	((option) < CURLOPTTYPE_OBJECTPOINT	 ? fn(handle, option, va_arg(ap, long)) \
	 : (option) < CURLOPTTYPE_FUNCTIONPOINT ? fn(handle, option, va_arg(ap, void *)) \
	 : (option) < CURLOPTTYPE_OFF_T	 ? fn(handle, option, va_arg(ap, void (*)(void))) \
	 : (option) < CURLOPTTYPE_BLOB	 ? fn(handle, option, va_arg(ap, curl_off_t)) \
					 : fn(handle, option, va_arg(ap, void *)))

CURLcode curl_global_init(long flags)
{
	return loaded() ? lazy.f.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return loaded() ? lazy.f.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *h)
{
	if (h && loaded())
		lazy.f.easy_cleanup(h);
}

CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
	CURLcode rc;
	va_list ap;

	if (!loaded())
		return CURLE_FAILED_INIT;
	va_start(ap, option);
	rc = PASS_OPTION(lazy.f.easy_setopt, h, option, ap);
	va_end(ap);
	return rc;
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	CURLcode rc;
	va_list ap;

	if (!loaded())
		return CURLE_FAILED_INIT;
	/* Every CURLINFO_* takes a pointer to where the answer goes. */
	va_start(ap, info);
	rc = lazy.f.easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *h)
{
	return loaded() ? lazy.f.easy_perform(h) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode code)
{
	return loaded() ? lazy.f.easy_strerror(code) : lazy.why;
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *s)
{
	return loaded() ? lazy.f.slist_append(list, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (list && loaded())
		lazy.f.slist_free_all(list);
}

CURLM *curl_multi_init(void)
{
	return loaded() ? lazy.f.multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *m)
{
	return loaded() ? lazy.f.multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
	return loaded() ? lazy.f.multi_add_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
	return loaded() ? lazy.f.multi_remove_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption option, ...)
{
	CURLMcode rc;
	va_list ap;

	if (!loaded())
		return CURLM_INTERNAL_ERROR;
	va_start(ap, option);
	rc = PASS_OPTION(lazy.f.multi_setopt, m, option, ap);
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_assign(CURLM *m, curl_socket_t s, void *p)
{
	return loaded() ? lazy.f.multi_assign(m, s, p) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_socket_action(CURLM *m, curl_socket_t s, int mask, int *running)
{
	return loaded() ? lazy.f.multi_socket_action(m, s, mask, running) : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *m, int *left)
{
	return loaded() ? lazy.f.multi_info_read(m, left) : NULL;
}
