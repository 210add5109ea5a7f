/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libssl, loaded when it is first used, for the reason curl-lazy.c gives:
 * linked, it costs every run of `actgate` some 850,000 instructions of
 * relocation before main, and only the syslog sink's TLS
 * (src/journal/export-syslog.c) uses it. These are the functions that sink
 * calls (SSL_ctrl and SSL_CTX_ctrl stand behind the macros it uses); they
 * load libssl.so.3 once and pass each call on (libcrypto, which libssl
 * needs, is loaded the same way: crypto-lazy.c). When
 * libssl cannot be loaded, every call fails as OpenSSL's own do (NULL, 0,
 * -1), with the reason on OpenSSL's error queue, where the sink reads it.
 */
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#define SSL_SONAME "libssl.so.3"

struct ssl_api {
	const SSL_METHOD *(*client_method)(void);
	SSL_CTX *(*ctx_new)(const SSL_METHOD *method);
	void (*ctx_free)(SSL_CTX *ctx);
	long (*ctx_ctrl)(SSL_CTX *ctx, int cmd, long larg, void *parg);
	void (*ctx_set_verify)(SSL_CTX *ctx, int mode, SSL_verify_cb cb);
	int (*ctx_load_verify_locations)(SSL_CTX *ctx, const char *file, const char *path);
	int (*ctx_use_certificate_chain_file)(SSL_CTX *ctx, const char *file);
	int (*ctx_use_private_key_file)(SSL_CTX *ctx, const char *file, int type);
	SSL *(*ssl_new)(SSL_CTX *ctx);
	void (*ssl_free)(SSL *ssl);
	long (*ssl_ctrl)(SSL *ssl, int cmd, long larg, void *parg);
	int (*set_fd)(SSL *ssl, int fd);
	void (*set_hostflags)(SSL *ssl, unsigned int flags);
	int (*set1_host)(SSL *ssl, const char *host);
	int (*connect)(SSL *ssl);
	long (*get_verify_result)(const SSL *ssl);
	int (*write)(SSL *ssl, const void *buf, int num);
	int (*shutdown)(SSL *ssl);
};

/* Process-wide, filled once under pthread_once, then only read (as in curl-lazy.c). */
static struct {
	pthread_once_t once;
	bool ok;
	char why[256];
	struct ssl_api f;
} lazy = { .once = PTHREAD_ONCE_INIT };

static void load(void)
{
	struct ssl_api *f = &lazy.f;
	const struct {
		const char *name;
		void **slot;
	} syms[] = {
		{ "TLS_client_method", (void **)&f->client_method },
		{ "SSL_CTX_new", (void **)&f->ctx_new },
		{ "SSL_CTX_free", (void **)&f->ctx_free },
		{ "SSL_CTX_ctrl", (void **)&f->ctx_ctrl },
		{ "SSL_CTX_set_verify", (void **)&f->ctx_set_verify },
		{ "SSL_CTX_load_verify_locations", (void **)&f->ctx_load_verify_locations },
		{ "SSL_CTX_use_certificate_chain_file", (void **)&f->ctx_use_certificate_chain_file },
		{ "SSL_CTX_use_PrivateKey_file", (void **)&f->ctx_use_private_key_file },
		{ "SSL_new", (void **)&f->ssl_new },
		{ "SSL_free", (void **)&f->ssl_free },
		{ "SSL_ctrl", (void **)&f->ssl_ctrl },
		{ "SSL_set_fd", (void **)&f->set_fd },
		{ "SSL_set_hostflags", (void **)&f->set_hostflags },
		{ "SSL_set1_host", (void **)&f->set1_host },
		{ "SSL_connect", (void **)&f->connect },
		{ "SSL_get_verify_result", (void **)&f->get_verify_result },
		{ "SSL_write", (void **)&f->write },
		{ "SSL_shutdown", (void **)&f->shutdown },
	};
	void *lib = dlopen(SSL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		const char *e = dlerror();

		snprintf(lazy.why, sizeof(lazy.why), "cannot load %s: %s", SSL_SONAME,
			 e ? e : "unknown error");
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		/* POSIX guarantees dlsym's void * converts to a function pointer. */
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(lazy.why, sizeof(lazy.why), "%s has no %s", SSL_SONAME, syms[i].name);
			return;
		}
	}
	/* Kept loaded for the life of the process, as a linked library would be. */
	lazy.ok = true;
}

/* Loaded? If not, the reason goes on OpenSSL's error queue for the caller to report. */
static bool loaded(void)
{
	pthread_once(&lazy.once, load);
	if (!lazy.ok)
		ERR_raise_data(ERR_LIB_SYS, ERR_R_INIT_FAIL, "%s", lazy.why);
	return lazy.ok;
}

const SSL_METHOD *TLS_client_method(void)
{
	return loaded() ? lazy.f.client_method() : NULL;
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method)
{
	return loaded() && method ? lazy.f.ctx_new(method) : NULL;
}

void SSL_CTX_free(SSL_CTX *ctx)
{
	if (ctx && loaded())
		lazy.f.ctx_free(ctx);
}

long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg)
{
	return loaded() ? lazy.f.ctx_ctrl(ctx, cmd, larg, parg) : 0;
}

void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb cb)
{
	if (loaded())
		lazy.f.ctx_set_verify(ctx, mode, cb);
}

int SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *file, const char *path)
{
	return loaded() ? lazy.f.ctx_load_verify_locations(ctx, file, path) : 0;
}

int SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file)
{
	return loaded() ? lazy.f.ctx_use_certificate_chain_file(ctx, file) : 0;
}

int SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type)
{
	return loaded() ? lazy.f.ctx_use_private_key_file(ctx, file, type) : 0;
}

SSL *SSL_new(SSL_CTX *ctx)
{
	return loaded() ? lazy.f.ssl_new(ctx) : NULL;
}

void SSL_free(SSL *ssl)
{
	if (ssl && loaded())
		lazy.f.ssl_free(ssl);
}

long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg)
{
	return loaded() ? lazy.f.ssl_ctrl(ssl, cmd, larg, parg) : 0;
}

int SSL_set_fd(SSL *ssl, int fd)
{
	return loaded() ? lazy.f.set_fd(ssl, fd) : 0;
}

void SSL_set_hostflags(SSL *ssl, unsigned int flags)
{
	if (loaded())
		lazy.f.set_hostflags(ssl, flags);
}

int SSL_set1_host(SSL *ssl, const char *host)
{
	return loaded() ? lazy.f.set1_host(ssl, host) : 0;
}

int SSL_connect(SSL *ssl)
{
	return loaded() ? lazy.f.connect(ssl) : -1;
}

long SSL_get_verify_result(const SSL *ssl)
{
	return loaded() ? lazy.f.get_verify_result(ssl) : X509_V_ERR_UNSPECIFIED;
}

int SSL_write(SSL *ssl, const void *buf, int num)
{
	return loaded() ? lazy.f.write(ssl, buf, num) : -1;
}

int SSL_shutdown(SSL *ssl)
{
	return loaded() ? lazy.f.shutdown(ssl) : -1;
}
