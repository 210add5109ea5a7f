/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * base64url without padding (RFC 4648 section 5, as JOSE uses it: RFC 7515
 * section 2). Decoding is strict: only the URL-safe alphabet, no '=', no
 * whitespace, no length that leaves a lone character, and the unused bits of
 * the last character zero, so one value has exactly one spelling.
 */
#ifndef ACTGATE_UTIL_BASE64URL_H
#define ACTGATE_UTIL_BASE64URL_H

#include <stddef.h>

/* The most bytes a text of len characters decodes to. */
#define BASE64URL_DECODED_MAX(len) ((len) / 4 * 3 + 2)
/* The characters of n bytes encoded, without the terminating NUL. */
#define BASE64URL_ENCODED_LEN(n) ((n) / 3 * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/*
 * Decode len characters of text into out (at least BASE64URL_DECODED_MAX(len)
 * bytes). 0 with *out_len; -EINVAL with the byte offset of the first wrong
 * character in *bad_at (len for a bad length or trailing bits).
 */
int base64url_decode(const char *text, size_t len, unsigned char *out, size_t *out_len,
		     size_t *bad_at);

/* Encode n bytes into out (BASE64URL_ENCODED_LEN(n) + 1 bytes, NUL-terminated). */
void base64url_encode(const unsigned char *in, size_t n, char *out);

#endif /* ACTGATE_UTIL_BASE64URL_H */
