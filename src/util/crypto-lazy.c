/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libcrypto, loaded when it is first used, for the reason curl-lazy.c
 * gives: linked, its relocation costs every run of `actgate` some 2.6M
 * instructions before main (it binds its 4,000 symbol relocations at load,
 * BIND_NOW), where a command such as `actgate revoke` or `actgate status`
 * does about 30,000 of its own and never hashes or verifies anything. These
 * are the functions actgate calls (the journal's seals and chain, signal
 * tokens, the delegation tokens' signatures, the BPF object's build id, and
 * what the syslog sink's TLS reports); each loads libcrypto.so.3 once and
 * passes the call on. The daemon calls them at its start, as before.
 *
 * libcrypto is a dependency of the package (libssl3), as it was of the
 * binaries: when it cannot be loaded, the process stops with the reason,
 * as the dynamic loader would have stopped it at its start. A partial
 * answer (a seal not written, a signature taken as not verifiable) would
 * look like a bad journal or a forged token; stopping says what it is.
 */
#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/core.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define CRYPTO_SONAME "libcrypto.so.3"

/* Process-wide, set once under pthread_once, then only read (as in curl-lazy.c). */
static struct {
	pthread_once_t once;
	void *lib;
} lazy = { .once = PTHREAD_ONCE_INIT };

static void load(void)
{
	lazy.lib = dlopen(CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lazy.lib) {
		const char *e = dlerror();

		fprintf(stderr, "actgate: cannot load %s: %s\n", CRYPTO_SONAME,
			e ? e : "unknown error");
		_exit(127);
	}
}

/* The library's function called name; the process stops if it has none. */
static void *function(const char *name)
{
	void *f;

	pthread_once(&lazy.once, load);
	f = dlsym(lazy.lib, name);
	if (!f) {
		fprintf(stderr, "actgate: %s has no %s\n", CRYPTO_SONAME, name);
		_exit(127);
	}
	return f;
}

/*
 * Each function's address, looked up at its first call and kept. Threads
 * that race to the first call look up the same address; the atomics make
 * that race a defined one.
 */
#define RESOLVED(name)                                                                  \
	static __typeof__(name) *resolved;                                              \
	__typeof__(name) *f = __atomic_load_n(&resolved, __ATOMIC_ACQUIRE);             \
	if (!f) {                                                                       \
		/* POSIX guarantees dlsym's void * converts to a function pointer. */   \
		f = (__typeof__(name) *)function(#name);                                \
		__atomic_store_n(&resolved, f, __ATOMIC_RELEASE);                       \
	}

/* A function returning a value, and one returning nothing: the same call passed on. */
#define FORWARD(ret, name, params, args) \
	ret name params                  \
	{                                \
		RESOLVED(name)           \
		return f args;           \
	}
#define FORWARD_VOID(name, params, args) \
	void name params                 \
	{                                \
		RESOLVED(name)           \
		f args;                  \
	}

/* Big numbers and ECDSA signatures (src/signals/jose.c: ES256). */
FORWARD(BIGNUM *, BN_bin2bn, (const unsigned char *s, int len, BIGNUM *ret), (s, len, ret))
FORWARD_VOID(BN_free, (BIGNUM *a), (a))
FORWARD(int, BN_is_odd, (const BIGNUM *a), (a))
FORWARD(int, BN_num_bits, (const BIGNUM *a), (a))
FORWARD(ECDSA_SIG *, ECDSA_SIG_new, (void), ())
FORWARD_VOID(ECDSA_SIG_free, (ECDSA_SIG *sig), (sig))
FORWARD(int, ECDSA_SIG_set0, (ECDSA_SIG *sig, BIGNUM *r, BIGNUM *s), (sig, r, s))
FORWARD(int, i2d_ECDSA_SIG, (const ECDSA_SIG *sig, unsigned char **pp), (sig, pp))

/* Memory and comparison. */
FORWARD_VOID(CRYPTO_free, (void *ptr, const char *file, int line), (ptr, file, line))
FORWARD(int, CRYPTO_memcmp, (const void *in_a, const void *in_b, size_t len), (in_a, in_b, len))
FORWARD_VOID(OPENSSL_cleanse, (void *ptr, size_t len), (ptr, len))

/* The error queue (ERR_raise is ERR_new, ERR_set_debug and ERR_set_error). */
FORWARD_VOID(ERR_clear_error, (void), ())
FORWARD_VOID(ERR_error_string_n, (unsigned long e, char *buf, size_t len), (e, buf, len))
FORWARD(unsigned long, ERR_get_error, (void), ())
FORWARD_VOID(ERR_new, (void), ())
FORWARD_VOID(ERR_set_debug, (const char *file, int line, const char *func), (file, line, func))
FORWARD_VOID(ERR_vset_error, (int lib, int reason, const char *fmt, va_list args),
	     (lib, reason, fmt, args))

void ERR_set_error(int lib, int reason, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	ERR_vset_error(lib, reason, fmt, args);
	va_end(args);
}

FORWARD(const char *, X509_verify_cert_error_string, (long n), (n))

/* Digests and HMAC (the journal's chain and seals, the build id). */
FORWARD(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
FORWARD_VOID(EVP_MD_CTX_free, (EVP_MD_CTX *ctx), (ctx))
FORWARD(int, EVP_MD_CTX_copy_ex, (EVP_MD_CTX *out, const EVP_MD_CTX *in), (out, in))
FORWARD(int, EVP_DigestInit_ex, (EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl),
	(ctx, type, impl))
FORWARD(int, EVP_DigestUpdate, (EVP_MD_CTX *ctx, const void *d, size_t cnt), (ctx, d, cnt))
FORWARD(int, EVP_DigestFinal_ex, (EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s),
	(ctx, md, s))
FORWARD(EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties),
	(ctx, algorithm, properties))
FORWARD_VOID(EVP_MD_free, (EVP_MD *md), (md))
FORWARD(const EVP_MD *, EVP_sha256, (void), ())
FORWARD(unsigned char *, HMAC,
	(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *data,
	 size_t data_len, unsigned char *md, unsigned int *md_len),
	(evp_md, key, key_len, data, data_len, md, md_len))

/* Signature verification with public keys (signal and delegation tokens). */
FORWARD(int, EVP_DigestVerifyInit,
	(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e, EVP_PKEY *pkey),
	(ctx, pctx, type, e, pkey))
FORWARD(int, EVP_DigestVerify,
	(EVP_MD_CTX *ctx, const unsigned char *sigret, size_t siglen, const unsigned char *tbs,
	 size_t tbslen),
	(ctx, sigret, siglen, tbs, tbslen))
FORWARD(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name,
	(OSSL_LIB_CTX *libctx, const char *name, const char *propquery), (libctx, name, propquery))
FORWARD(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_pkey,
	(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey, const char *propquery), (libctx, pkey, propquery))
FORWARD_VOID(EVP_PKEY_CTX_free, (EVP_PKEY_CTX *ctx), (ctx))
FORWARD(int, EVP_PKEY_CTX_set_rsa_mgf1_md, (EVP_PKEY_CTX *ctx, const EVP_MD *md), (ctx, md))
FORWARD(int, EVP_PKEY_CTX_set_rsa_padding, (EVP_PKEY_CTX *ctx, int pad_mode), (ctx, pad_mode))
FORWARD(int, EVP_PKEY_CTX_set_rsa_pss_saltlen, (EVP_PKEY_CTX *ctx, int saltlen), (ctx, saltlen))
FORWARD(int, EVP_PKEY_fromdata_init, (EVP_PKEY_CTX *ctx), (ctx))
FORWARD(int, EVP_PKEY_fromdata, (EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey, int selection,
				 OSSL_PARAM param[]),
	(ctx, ppkey, selection, param))
FORWARD(int, EVP_PKEY_get_size, (const EVP_PKEY *pkey), (pkey))
FORWARD(int, EVP_PKEY_public_check, (EVP_PKEY_CTX *ctx), (ctx))
FORWARD_VOID(EVP_PKEY_free, (EVP_PKEY *pkey), (pkey))

/* Parameters for EVP_PKEY_fromdata (the keys of a JWKS). */
FORWARD(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_new, (void), ())
FORWARD_VOID(OSSL_PARAM_BLD_free, (OSSL_PARAM_BLD *bld), (bld))
FORWARD(int, OSSL_PARAM_BLD_push_BN, (OSSL_PARAM_BLD *bld, const char *key, const BIGNUM *bn),
	(bld, key, bn))
FORWARD(int, OSSL_PARAM_BLD_push_octet_string,
	(OSSL_PARAM_BLD *bld, const char *key, const void *buf, size_t bsize), (bld, key, buf, bsize))
FORWARD(int, OSSL_PARAM_BLD_push_utf8_string,
	(OSSL_PARAM_BLD *bld, const char *key, const char *buf, size_t bsize), (bld, key, buf, bsize))
FORWARD(OSSL_PARAM *, OSSL_PARAM_BLD_to_param, (OSSL_PARAM_BLD *bld), (bld))
FORWARD_VOID(OSSL_PARAM_free, (OSSL_PARAM *p), (p))
