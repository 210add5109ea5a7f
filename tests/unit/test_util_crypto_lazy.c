/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libcrypto loaded when first used (util/crypto-lazy.c): not in the process
 * before the first call, and every call passed on whole (a digest, an HMAC,
 * the error queue with its formatted text).
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static bool crypto_in_process(void)
{
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_NOLOAD);

	if (h)
		dlclose(h);
	return h != NULL;
}

/* Runs first: nothing before it has called into libcrypto. */
static void test_not_loaded_until_used(void **state)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	(void)state;
	/* Linked again with -lcrypto needed at start, this binary would hold it already. */
	assert_false(crypto_in_process());
	assert_non_null(HMAC(EVP_sha256(), "k", 1, (const unsigned char *)"d", 1, md, &len));
	assert_true(crypto_in_process());
}

/* RFC 4231, test case 2. */
static void test_hmac_sha256(void **state)
{
	static const unsigned char want[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
		0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
		0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	const char *data = "what do ya want for nothing?";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	(void)state;
	assert_non_null(HMAC(EVP_sha256(), "Jefe", 4, (const unsigned char *)data, strlen(data),
			     md, &len));
	assert_int_equal(len, 32);
	assert_memory_equal(md, want, 32);
}

/* FIPS 180-2's "abc", through a fetched digest and a copied context. */
static void test_digest(void **state)
{
	static const unsigned char want[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new(), *copy = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	(void)state;
	assert_non_null(sha256);
	assert_non_null(ctx);
	assert_non_null(copy);
	assert_int_equal(EVP_DigestInit_ex(ctx, sha256, NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, "ab", 2), 1);
	assert_int_equal(EVP_MD_CTX_copy_ex(copy, ctx), 1);
	assert_int_equal(EVP_DigestUpdate(copy, "c", 1), 1);
	assert_int_equal(EVP_DigestFinal_ex(copy, md, &len), 1);
	assert_int_equal(len, 32);
	assert_memory_equal(md, want, 32);
	EVP_MD_CTX_free(copy);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(sha256);
}

/*
 * ERR_raise_data goes through the variadic ERR_set_error and ERR_vset_error.
 * (Its formatted text is not read back here: the function that returns it,
 * ERR_peek_error_all, is one actgate does not call, and calling it would
 * link libcrypto into this test at its start.)
 */
static void test_error_queue(void **state)
{
	unsigned long e;
	char text[256];

	(void)state;
	ERR_clear_error();
	ERR_raise_data(ERR_LIB_SYS, ERR_R_INIT_FAIL, "step %d of %s", 3, "four");
	e = ERR_get_error();
	assert_int_not_equal(e, 0);
	assert_int_equal(ERR_GET_LIB(e), ERR_LIB_SYS);
	assert_int_equal(ERR_GET_REASON(e), ERR_R_INIT_FAIL);
	ERR_error_string_n(e, text, sizeof(text));
	assert_non_null(strstr(text, "error:"));
	assert_int_equal(ERR_get_error(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_loaded_until_used),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_error_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
