/* SPDX-License-Identifier: MIT */
/*
 * Proof of possession for certificate logon: the challenge protocol
 * (see include/accord/certpop.h for the format), signatures, and local
 * PKCS#11 tokens through libp11.
 */
#include <accord/certpop.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libp11.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#define POP_WANT " want="
#define POP_CERT "cert-"
#define POP_SIGNATURE "signature"

/* ---- base64 (RFC 4648), strict --------------------------------------- */

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encodes len bytes; padded with '=' unless url.  out needs
 * 4 * ceil(len / 3) + 1 bytes; returns the length written. */
static size_t b64_encode(const unsigned char *in, size_t len, bool url, char *out)
{
	const char *a = url ? b64_url : b64_std;
	size_t i, o = 0;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		if (!url) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_val(char ch, bool url)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == (url ? '-' : '+'))
		return 62;
	if (ch == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Decodes exactly len characters: canonical only (padding required and
 * only at the end for standard, none for url; unused bits zero; no
 * whitespace).  -EBADMSG, or -EMSGSIZE when more than cap bytes. */
static int b64_decode(const char *in, size_t len, bool url, unsigned char *out, size_t cap,
		      size_t *out_len)
{
	size_t i, o = 0, rem, need;
	int v[4];

	if (!url) {
		if (len % 4)
			return -EBADMSG;
		if (len >= 4 && in[len - 1] == '=') {
			len--;
			if (in[len - 1] == '=')
				len--;
		}
	}
	rem = len % 4;
	if (rem == 1)
		return -EBADMSG;
	need = len / 4 * 3 + (rem ? rem - 1 : 0);
	if (need > cap)
		return -EMSGSIZE;
	for (i = 0; i < len; i += 4) {
		/* a full group of 4, or the last 2 or 3 characters */
		size_t k, n = len - i >= 4 ? 4 : rem;

		for (k = 0; k < n; k++) {
			v[k] = b64_val(in[i + k], url);
			if (v[k] < 0)
				return -EBADMSG;
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (n == 2) {
			if (v[1] & 15)
				return -EBADMSG;
			break;
		}
		out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (n == 3) {
			if (v[2] & 3)
				return -EBADMSG;
			break;
		}
		out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*out_len = o;
	return 0;
}

/* ---- names and numbers --------------------------------------------- */

static bool charset_ok(const char *s, size_t max, const char *extra)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char ch = s[i];

		if (i >= max)
			return false;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (!strchr(extra, ch))
			return false;
	}
	return i > 0;
}

bool accord_pop_host_valid(const char *host)
{
	return host && charset_ok(host, ACCORD_POP_HOST_MAX, "._-");
}

bool accord_pop_service_valid(const char *service)
{
	return service && charset_ok(service, ACCORD_POP_SERVICE_MAX, "._+-");
}

/* A decimal number of at most max_digits and at most limit, no sign, no
 * leading zero.  Returns the characters read, 0 when there is no such
 * number. */
static size_t read_decimal(const char *s, unsigned max_digits, uint64_t limit, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= max_digits)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > limit)
			return 0;
	}
	*out = v;
	return i;
}

/* Copies the field of s up to the next space into out (size), or fails. */
static size_t read_field(const char *s, char *out, size_t size)
{
	size_t n = strcspn(s, " ");

	if (n == 0 || n >= size)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

/* ---- signatures ----------------------------------------------------- */

/* The digest the protocol uses with this key (NULL: pure EdDSA). */
static int pop_digest(EVP_PKEY *key, const EVP_MD **md, struct accord_err *err)
{
	int bits;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		*md = NULL;
		return 0;
	case EVP_PKEY_EC:
		*md = EVP_sha256();
		return 0;
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(key);
		if (bits < ACCORD_POP_RSA_MIN_BITS || bits > ACCORD_POP_RSA_MAX_BITS)
			return accord_err_set(err, -EKEYREJECTED,
					      "an RSA key of %d bits: the protocol takes %d to %d",
					      bits, ACCORD_POP_RSA_MIN_BITS,
					      ACCORD_POP_RSA_MAX_BITS);
		*md = EVP_sha256();
		return 0;
	default:
		return accord_err_set(err, -EKEYREJECTED,
				      "a %s key: the protocol takes RSA, EC, Ed25519 and Ed448",
				      OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
	}
}

int accord_pop_sign(EVP_PKEY *key, const unsigned char *msg, size_t msg_len,
		    unsigned char *sig, size_t *sig_len, struct accord_err *err)
{
	EVP_MD_CTX *mctx = NULL;
	const EVP_MD *md;
	size_t need = 0;
	int r;

	r = pop_digest(key, &md, err);
	if (r < 0)
		goto out;
	mctx = EVP_MD_CTX_new();
	if (!mctx) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSignInit(mctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(mctx, NULL, &need, msg, msg_len) != 1) {
		r = accord_err_set(err, -EIO, "the key cannot sign");
		goto out;
	}
	if (need > *sig_len || need > ACCORD_POP_SIG_MAX) {
		r = accord_err_set(err, -EMSGSIZE, "a signature of up to %zu bytes does not fit",
				   need);
		goto out;
	}
	need = *sig_len;
	if (EVP_DigestSign(mctx, sig, &need, msg, msg_len) != 1) {
		r = accord_err_set(err, -EIO, "signing failed");
		goto out;
	}
	*sig_len = need;
	r = 0;
out:
	EVP_MD_CTX_free(mctx);
	if (r < 0)
		ERR_clear_error();
	return r;
}

int accord_pop_verify(EVP_PKEY *pub, const unsigned char *msg, size_t msg_len,
		      const unsigned char *sig, size_t sig_len, struct accord_err *err)
{
	EVP_MD_CTX *mctx = NULL;
	const EVP_MD *md;
	int r;

	r = pop_digest(pub, &md, err);
	if (r < 0)
		goto out;
	mctx = EVP_MD_CTX_new();
	if (!mctx) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, NULL, md, NULL, pub) != 1) {
		r = accord_err_set(err, -EKEYREJECTED, "the certificate's key cannot verify");
		goto out;
	}
	/* 0 is a bad signature, < 0 a malformed one: both are refusals */
	if (EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) != 1) {
		r = accord_err_set(err, -EACCES,
				   "the signature does not verify with the certificate's key");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return r;
}

/* ---- the challenge --------------------------------------------------- */

static int challenge_format(struct accord_pop_challenge *c, struct accord_err *err)
{
	int n = snprintf(c->text, sizeof(c->text),
			 ACCORD_POP_MAGIC " host=%s service=%s time=%lld nonce=%s", c->host,
			 c->service, (long long)c->time, c->nonce);

	if (n < 0 || (size_t)n >= sizeof(c->text))
		return accord_err_set(err, -EINVAL, "the challenge does not fit");
	c->len = (size_t)n;
	return 0;
}

int accord_pop_challenge_new(struct accord_pop_challenge *c, const char *host,
			     const char *service, int64_t now, struct accord_err *err)
{
	unsigned char nonce[ACCORD_POP_NONCE_LEN];

	memset(c, 0, sizeof(*c));
	if (!accord_pop_host_valid(host))
		return accord_err_set(err, -EINVAL,
				      "host name \"%.64s\" is not 1 to %d of [A-Za-z0-9._-]",
				      host ? host : "", ACCORD_POP_HOST_MAX);
	if (!accord_pop_service_valid(service))
		return accord_err_set(err, -EINVAL,
				      "service \"%.64s\" is not 1 to %d of [A-Za-z0-9._+-]",
				      service ? service : "", ACCORD_POP_SERVICE_MAX);
	if (now <= 0)
		return accord_err_set(err, -EINVAL, "the clock says %lld", (long long)now);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		ERR_clear_error();
		return accord_err_set(err, -EIO, "no random bytes for the nonce");
	}
	strcpy(c->host, host);
	strcpy(c->service, service);
	c->time = now;
	b64_encode(nonce, sizeof(nonce), true, c->nonce);
	return challenge_format(c, err);
}

int accord_pop_prompt(const struct accord_pop_challenge *c, enum accord_pop_want want,
		      unsigned part, char *out, size_t size, struct accord_err *err)
{
	int n;

	if (want == ACCORD_POP_WANT_CERT) {
		if (part < 1 || part > ACCORD_POP_MAX_PARTS)
			return accord_err_set(err, -ERANGE, "no certificate part %u", part);
		n = snprintf(out, size, "%s" POP_WANT POP_CERT "%u: ", c->text, part);
	} else if (want == ACCORD_POP_WANT_SIGNATURE) {
		n = snprintf(out, size, "%s" POP_WANT POP_SIGNATURE ": ", c->text);
	} else {
		return accord_err_set(err, -EINVAL, "no such step");
	}
	if (n < 0 || (size_t)n >= size)
		return accord_err_set(err, -EMSGSIZE, "the prompt does not fit");
	return 0;
}

int accord_pop_prompt_parse(const char *prompt, struct accord_pop_request *req,
			    struct accord_err *err)
{
	struct accord_pop_challenge *c = &req->ch;
	unsigned char nonce[ACCORD_POP_NONCE_LEN];
	char line[ACCORD_POP_PROMPT_MAX + 1];
	const char *start;
	uint64_t v;
	size_t len, n, nl;
	char *p;

	memset(req, 0, sizeof(*req));
	start = strstr(prompt, ACCORD_POP_MAGIC " ");
	if (!start)
		return accord_err_set(err, -EBADMSG, "not an accord challenge (no \"%s\")",
				      ACCORD_POP_MAGIC);
	len = strnlen(start, sizeof(line));
	/* trailing blanks, line ends and one ':' are the prompt's decoration */
	while (len > 0 && strchr(" \t\r\n", start[len - 1]))
		len--;
	if (len > 0 && start[len - 1] == ':')
		len--;
	if (len >= sizeof(line))
		return accord_err_set(err, -EBADMSG, "the challenge is too long");
	memcpy(line, start, len);
	line[len] = '\0';

	p = line + strlen(ACCORD_POP_MAGIC " ");
	if (strncmp(p, "host=", 5))
		goto bad;
	p += 5;
	n = read_field(p, c->host, sizeof(c->host));
	if (!n || strncmp(p + n, " service=", 9))
		goto bad;
	p += n + 9;
	n = read_field(p, c->service, sizeof(c->service));
	if (!n || strncmp(p + n, " time=", 6))
		goto bad;
	p += n + 6;
	n = read_decimal(p, 19, INT64_MAX, &v);
	if (!n || v == 0 || strncmp(p + n, " nonce=", 7))
		goto bad;
	c->time = (int64_t)v;
	p += n + 7;
	n = read_field(p, c->nonce, sizeof(c->nonce));
	if (n != ACCORD_POP_NONCE_B64 ||
	    b64_decode(c->nonce, n, true, nonce, sizeof(nonce), &nl) < 0 ||
	    nl != sizeof(nonce) || strncmp(p + n, POP_WANT, strlen(POP_WANT)))
		goto bad;
	p += n + strlen(POP_WANT);
	if (!strcmp(p, POP_SIGNATURE)) {
		req->want = ACCORD_POP_WANT_SIGNATURE;
	} else if (!strncmp(p, POP_CERT, strlen(POP_CERT))) {
		p += strlen(POP_CERT);
		n = read_decimal(p, 2, ACCORD_POP_MAX_PARTS, &v);
		if (!n || v == 0 || p[n])
			goto bad;
		req->want = ACCORD_POP_WANT_CERT;
		req->part = (unsigned)v;
	} else {
		goto bad;
	}
	if (!accord_pop_host_valid(c->host) || !accord_pop_service_valid(c->service))
		return accord_err_set(err, -EINVAL,
				      "the challenge names a host or service outside the charset");
	return challenge_format(c, err);
bad:
	memset(req, 0, sizeof(*req));
	return accord_err_set(err, -EBADMSG, "a malformed accord challenge");
}

/* ---- certificate parts ----------------------------------------------- */

void accord_pop_collector_init(struct accord_pop_collector *col)
{
	col->nparts = 0;
	col->next = 1;
	col->len = 0;
}

bool accord_pop_collector_done(const struct accord_pop_collector *col)
{
	return col->nparts > 0 && col->next > col->nparts;
}

int accord_pop_collector_add(struct accord_pop_collector *col, const char *answer,
			     struct accord_err *err)
{
	const char *chunk = answer;
	size_t alen, clen, got = 0;
	uint64_t n;
	int r;

	if (accord_pop_collector_done(col) || col->next < 1)
		return accord_err_set(err, -EINVAL, "every certificate part was already taken");
	alen = strnlen(answer, ACCORD_POP_ANSWER_MAX + 1);
	if (alen > ACCORD_POP_ANSWER_MAX) {
		r = accord_err_set(err, -EMSGSIZE,
				   "the answer for certificate part %u is longer than %d bytes",
				   col->next, ACCORD_POP_ANSWER_MAX);
		goto fail;
	}
	if (col->next == 1) {
		size_t d = read_decimal(answer, 2, ACCORD_POP_MAX_PARTS, &n);

		if (!d && answer[0] >= '1' && answer[0] <= '9') {
			r = accord_err_set(err, -EMSGSIZE, "more than %d certificate parts announced",
					   ACCORD_POP_MAX_PARTS);
			goto fail;
		}
		if (!d || n == 0 || answer[d] != ' ') {
			r = accord_err_set(err, -EBADMSG,
					   "the answer for part 1 is not \"<parts> <base64>\"");
			goto fail;
		}
		col->nparts = (unsigned)n;
		chunk = answer + d + 1;
	}
	clen = strlen(chunk);
	if (clen == 0) {
		r = accord_err_set(err, -EBADMSG, "certificate part %u is empty", col->next);
		goto fail;
	}
	r = b64_decode(chunk, clen, false, col->der + col->len,
		       ACCORD_POP_BUNDLE_MAX - col->len < ACCORD_POP_CHUNK_DER ?
			       ACCORD_POP_BUNDLE_MAX - col->len :
			       ACCORD_POP_CHUNK_DER,
		       &got);
	if (r == -EMSGSIZE) {
		r = accord_err_set(err, -EMSGSIZE,
				   "certificate part %u is longer than %d bytes or the certificates larger than %d",
				   col->next, ACCORD_POP_CHUNK_DER, ACCORD_POP_BUNDLE_MAX);
		goto fail;
	}
	if (r < 0 || got == 0) {
		r = accord_err_set(err, -EBADMSG, "certificate part %u is not base64", col->next);
		goto fail;
	}
	if (col->next < col->nparts && got != ACCORD_POP_CHUNK_DER) {
		r = accord_err_set(err, -EBADMSG,
				   "certificate part %u of %u is %zu bytes, not %d", col->next,
				   col->nparts, got, ACCORD_POP_CHUNK_DER);
		goto fail;
	}
	col->len += got;
	col->next++;
	return 0;
fail:
	/* a collector that saw a bad part takes no more */
	col->nparts = col->nparts ? col->nparts : 1;
	col->next = col->nparts + 1;
	col->len = 0;
	return r;
}

int accord_pop_bundle_parse(const unsigned char *der, size_t len, X509 **cert,
			    STACK_OF(X509) **chain, struct accord_err *err)
{
	const unsigned char *p = der;
	STACK_OF(X509) *sk = NULL;
	X509 *leaf = NULL, *x;
	size_t left = len;
	unsigned count = 0;
	int r;

	*cert = NULL;
	*chain = NULL;
	if (len == 0 || len > ACCORD_POP_BUNDLE_MAX) {
		r = accord_err_set(err, len ? -EMSGSIZE : -EBADMSG,
				   "certificates of %zu bytes (1 to %d)", len,
				   ACCORD_POP_BUNDLE_MAX);
		goto out;
	}
	while (left > 0) {
		const unsigned char *q = p;

		if (count == ACCORD_POP_MAX_CERTS) {
			r = accord_err_set(err, -EMSGSIZE, "more than %d certificates",
					   ACCORD_POP_MAX_CERTS);
			goto out;
		}
		x = d2i_X509(NULL, &q, (long)left);
		if (!x) {
			r = accord_err_set(err, -EBADMSG, "certificate %u is not DER", count + 1);
			goto out;
		}
		left -= (size_t)(q - p);
		p = q;
		if (count++ == 0) {
			leaf = x;
			continue;
		}
		if (!sk)
			sk = sk_X509_new_null();
		if (!sk || !sk_X509_push(sk, x)) {
			X509_free(x);
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	*cert = leaf;
	*chain = sk;
	leaf = NULL;
	sk = NULL;
	r = 0;
out:
	X509_free(leaf);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return r;
}

int accord_pop_bundle_make(X509 *cert, STACK_OF(X509) *chain, unsigned char **der,
			   size_t *len, struct accord_err *err)
{
	unsigned char *buf = NULL;
	size_t total = 0;
	int i, n = chain ? sk_X509_num(chain) : 0, r;

	*der = NULL;
	*len = 0;
	if (n + 1 > ACCORD_POP_MAX_CERTS)
		return accord_err_set(err, -EMSGSIZE, "%d certificates: at most %d", n + 1,
				      ACCORD_POP_MAX_CERTS);
	buf = malloc(ACCORD_POP_BUNDLE_MAX);
	if (!buf)
		return accord_err_set(err, -ENOMEM, "out of memory");
	for (i = -1; i < n; i++) {
		X509 *x = i < 0 ? cert : sk_X509_value(chain, i);
		int l = i2d_X509(x, NULL);
		unsigned char *p = buf + total;

		if (l <= 0) {
			r = accord_err_set(err, -EBADMSG, "a certificate cannot be encoded");
			goto fail;
		}
		if ((size_t)l > ACCORD_POP_BUNDLE_MAX - total) {
			r = accord_err_set(err, -EMSGSIZE,
					   "the certificates are larger than %d bytes of DER",
					   ACCORD_POP_BUNDLE_MAX);
			goto fail;
		}
		if (i2d_X509(x, &p) != l) {
			r = accord_err_set(err, -EBADMSG, "a certificate cannot be encoded");
			goto fail;
		}
		total += (size_t)l;
	}
	*der = buf;
	*len = total;
	return 0;
fail:
	free(buf);
	ERR_clear_error();
	return r;
}

unsigned accord_pop_nparts(size_t len)
{
	return (unsigned)((len + ACCORD_POP_CHUNK_DER - 1) / ACCORD_POP_CHUNK_DER);
}

int accord_pop_answer_part(const unsigned char *der, size_t len, unsigned part,
			   char *out, size_t size, struct accord_err *err)
{
	unsigned n = accord_pop_nparts(len);
	size_t off, clen;
	int w = 0;

	if (len == 0 || len > ACCORD_POP_BUNDLE_MAX)
		return accord_err_set(err, -EMSGSIZE, "certificates of %zu bytes (1 to %d)", len,
				      ACCORD_POP_BUNDLE_MAX);
	if (part < 1 || part > n)
		return accord_err_set(err, -ERANGE,
				      "certificate part %u was asked for; there are %u", part, n);
	if (size < ACCORD_POP_ANSWER_MAX + 1)
		return accord_err_set(err, -EMSGSIZE, "no room for the answer");
	if (part == 1)
		w = snprintf(out, size, "%u ", n);
	off = (size_t)(part - 1) * ACCORD_POP_CHUNK_DER;
	clen = len - off < ACCORD_POP_CHUNK_DER ? len - off : ACCORD_POP_CHUNK_DER;
	b64_encode(der + off, clen, false, out + w);
	return 0;
}

int accord_pop_answer_signature(EVP_PKEY *key, const struct accord_pop_challenge *c,
				char *out, size_t size, struct accord_err *err)
{
	unsigned char sig[ACCORD_POP_SIG_MAX];
	size_t sl = sizeof(sig);
	int r;

	if (size < ACCORD_POP_ANSWER_MAX + 1)
		return accord_err_set(err, -EMSGSIZE, "no room for the answer");
	r = accord_pop_sign(key, (const unsigned char *)c->text, c->len, sig, &sl, err);
	if (r == 0)
		b64_encode(sig, sl, false, out);
	return r;
}

int accord_pop_check_signature(const struct accord_pop_challenge *c, X509 *cert,
			       const char *answer, int64_t now, unsigned max_age,
			       struct accord_err *err)
{
	unsigned char sig[ACCORD_POP_SIG_MAX];
	EVP_PKEY *pub;
	size_t alen, sl = 0;
	int r;

	if (c->time > now)
		return accord_err_set(err, -ETIMEDOUT,
				      "the challenge was issued at %lld, after now (%lld)",
				      (long long)c->time, (long long)now);
	if (now - c->time > (int64_t)max_age)
		return accord_err_set(err, -ETIMEDOUT,
				      "the challenge is %lld s old; it may be answered for %u s",
				      (long long)(now - c->time), max_age);
	alen = strnlen(answer, ACCORD_POP_ANSWER_MAX + 1);
	if (alen > ACCORD_POP_ANSWER_MAX)
		return accord_err_set(err, -EBADMSG, "the signature answer is too long");
	r = b64_decode(answer, alen, false, sig, sizeof(sig), &sl);
	if (r < 0 || sl == 0)
		return accord_err_set(err, -EBADMSG,
				      "the signature answer is not base64 of 1 to %d bytes",
				      ACCORD_POP_SIG_MAX);
	pub = X509_get0_pubkey(cert);
	if (!pub) {
		ERR_clear_error();
		return accord_err_set(err, -EKEYREJECTED, "the certificate's key cannot be read");
	}
	return accord_pop_verify(pub, (const unsigned char *)c->text, c->len, sig, sl, err);
}

/* ---- certificates from an application -------------------------------- */

int accord_pop_cert_from_text(const char *text, X509 **cert, struct accord_err *err)
{
	const size_t max_b64 = (ACCORD_POP_BUNDLE_MAX + 2) / 3 * 4;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len, dl = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	int r;

	*cert = NULL;
	/* PEM carries line breaks and a header: a quarter more text */
	len = strnlen(text, max_b64 * 2 + 1);
	if (len > max_b64 * 2) {
		r = accord_err_set(err, -EMSGSIZE, "the certificate text is too long");
		goto out;
	}
	if (!strncmp(text, "-----BEGIN ", 11)) {
		bio = BIO_new_mem_buf(text, (int)len);
		if (!bio) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (!x) {
			r = accord_err_set(err, -EBADMSG, "not a PEM certificate");
			goto out;
		}
		if (i2d_X509(x, NULL) > ACCORD_POP_BUNDLE_MAX) {
			r = accord_err_set(err, -EMSGSIZE, "a certificate larger than %d bytes",
					   ACCORD_POP_BUNDLE_MAX);
			goto out;
		}
	} else {
		while (len > 0 && strchr(" \t\r\n", text[len - 1]))
			len--;
		if (len > max_b64) {
			r = accord_err_set(err, -EMSGSIZE, "a certificate larger than %d bytes",
					   ACCORD_POP_BUNDLE_MAX);
			goto out;
		}
		der = malloc(ACCORD_POP_BUNDLE_MAX);
		if (!der) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		r = b64_decode(text, len, false, der, ACCORD_POP_BUNDLE_MAX, &dl);
		if (r < 0 || dl == 0) {
			r = accord_err_set(err, r == -EMSGSIZE ? -EMSGSIZE : -EBADMSG,
					   "neither PEM nor one line of base64 DER");
			goto out;
		}
		p = der;
		x = d2i_X509(NULL, &p, (long)dl);
		if (!x || p != der + dl) {
			r = accord_err_set(err, -EBADMSG, "the base64 text is not one DER certificate");
			goto out;
		}
	}
	*cert = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	BIO_free(bio);
	free(der);
	ERR_clear_error();
	return r;
}

int accord_pop_chain_from_pem(const char *text, STACK_OF(X509) **chain,
			      struct accord_err *err)
{
	STACK_OF(X509) *sk = NULL;
	size_t len;
	BIO *bio = NULL;
	X509 *x;
	int r;

	*chain = NULL;
	len = strnlen(text, (size_t)ACCORD_POP_BUNDLE_MAX * 2 + 1);
	if (len > (size_t)ACCORD_POP_BUNDLE_MAX * 2) {
		r = accord_err_set(err, -EMSGSIZE, "the chain text is longer than %d bytes",
				   ACCORD_POP_BUNDLE_MAX * 2);
		goto out;
	}
	if (strspn(text, " \t\r\n") == len) {
		r = 0;
		goto out;
	}
	bio = BIO_new_mem_buf(text, (int)len);
	sk = sk_X509_new_null();
	if (!bio || !sk) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (sk_X509_num(sk) >= ACCORD_POP_MAX_CERTS - 1 || !sk_X509_push(sk, x)) {
			int full = sk_X509_num(sk) >= ACCORD_POP_MAX_CERTS - 1;

			X509_free(x);
			r = full ? accord_err_set(err, -EMSGSIZE, "more than %d intermediates",
						  ACCORD_POP_MAX_CERTS - 1) :
				   accord_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	/* the loop ends at the end of the text or at something not PEM */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE ||
	    sk_X509_num(sk) == 0) {
		r = accord_err_set(err, -EBADMSG, "the chain is not a list of PEM certificates");
		goto out;
	}
	*chain = sk;
	sk = NULL;
	r = 0;
out:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

/* ---- PKCS#11 ---------------------------------------------------------- */

struct accord_p11 {
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned nslots;
	PKCS11_SLOT *slot;
	X509 *cert;                 /* our reference: libp11 drops its list at logout */
	unsigned char id[256];
	size_t id_len;
	EVP_PKEY *key;
	bool logged_in;
	bool needs_pin;
	char label[64];
};

/* Owned by root and not writable by group or others. */
static int p11_path_trusted(const char *path, const struct stat *st, bool dir,
			    struct accord_err *err)
{
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return accord_err_set(err, -EPERM, "refusing PKCS#11 module: %s is not a %s", path,
				      dir ? "directory" : "regular file");
	if (st->st_uid != 0)
		return accord_err_set(err, -EPERM,
				      "refusing PKCS#11 module: %s is owned by uid %u, not root",
				      path, (unsigned)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return accord_err_set(err, -EPERM,
				      "refusing PKCS#11 module: %s is writable by group or others",
				      path);
	return 0;
}

int accord_p11_module_check(const char *path, char *resolved, size_t size,
			    struct accord_err *err)
{
	char real[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	char *slash;
	int r;

	if (!path || path[0] != '/')
		return accord_err_set(err, -EINVAL,
				      "the PKCS#11 module \"%.200s\" is not an absolute path",
				      path ? path : "");
	if (!realpath(path, real)) {
		r = errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EPERM;
		return accord_err_set(err, r, "the PKCS#11 module %.200s: %s", path,
				      strerror(errno));
	}
	if (stat(real, &st) < 0)
		return accord_err_set(err, -ENOENT, "the PKCS#11 module %s: %s", real,
				      strerror(errno));
	r = p11_path_trusted(real, &st, false, err);
	if (r < 0)
		return r;
	/* every directory above it too: one writable by a user could swap
	 * the file for another between this check and dlopen() */
	strcpy(dir, real);
	while ((slash = strrchr(dir, '/'))) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) < 0)
			return accord_err_set(err, -EPERM, "the PKCS#11 module's directory %s: %s",
					      dir, strerror(errno));
		r = p11_path_trusted(dir, &st, true, err);
		if (r < 0)
			return r;
		if (!strcmp(dir, "/"))
			break;
	}
	if (strlen(real) >= size)
		return accord_err_set(err, -ENAMETOOLONG, "the PKCS#11 module path is too long");
	strcpy(resolved, real);
	return 0;
}

static void p11_label(struct accord_p11 *p, const char *label)
{
	size_t i, n = 0;

	/* token labels are blank-padded UTF-8 from the token: keep what
	 * is safe to show in a prompt */
	for (i = 0; label && label[i] && n + 1 < sizeof(p->label); i++)
		if (label[i] >= 0x20 && label[i] < 0x7f)
			p->label[n++] = label[i];
	while (n > 0 && p->label[n - 1] == ' ')
		n--;
	p->label[n] = '\0';
}

/* The first certificate on the token with an ID (0: found one). */
static int p11_pick_cert(struct accord_p11 *p, PKCS11_SLOT *slot)
{
	PKCS11_CERT *certs = NULL;
	unsigned n = 0, i;

	if (PKCS11_enumerate_certs(slot->token, &certs, &n) != 0)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		if (!certs[i].x509 || certs[i].id_len == 0 || certs[i].id_len > sizeof(p->id))
			continue;
		if (!X509_up_ref(certs[i].x509))
			return -ENOMEM;
		p->cert = certs[i].x509;
		memcpy(p->id, certs[i].id, certs[i].id_len);
		p->id_len = certs[i].id_len;
		p->slot = slot;
		p->needs_pin = slot->token->loginRequired;
		p11_label(p, slot->token->label);
		return 0;
	}
	return -ENOENT;
}

int accord_p11_open(const char *module, struct accord_p11 **out, struct accord_err *err)
{
	char path[PATH_MAX];
	struct accord_p11 *p = NULL;
	PKCS11_SLOT *slot = NULL;
	int r;

	*out = NULL;
	r = accord_p11_module_check(module, path, sizeof(path), err);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return accord_err_set(err, -ENOMEM, "out of memory");
	p->ctx = PKCS11_CTX_new();
	if (!p->ctx) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (PKCS11_CTX_load(p->ctx, path) != 0) {
		r = accord_err_set(err, -ELIBBAD, "cannot load the PKCS#11 module %s", path);
		PKCS11_CTX_free(p->ctx);
		p->ctx = NULL;
		goto fail;
	}
	if (PKCS11_enumerate_slots(p->ctx, &p->slots, &p->nslots) != 0) {
		r = accord_err_set(err, -EIO, "the PKCS#11 module %s lists no slots", path);
		goto fail;
	}
	r = -ENOENT;
	while ((slot = PKCS11_find_next_token(p->ctx, p->slots, p->nslots, slot))) {
		if (!slot->token || !slot->token->initialized)
			continue;
		r = p11_pick_cert(p, slot);
		if (r != -ENOENT)
			break;
	}
	if (r == -ENOENT)
		r = accord_err_set(err, -ENOENT,
				   "no token of %s holds a certificate with an ID", path);
	else if (r < 0)
		r = accord_err_set(err, r, "out of memory");
	if (r < 0)
		goto fail;
	ERR_clear_error();
	*out = p;
	return 0;
fail:
	accord_p11_close(p);
	return r;
}

X509 *accord_p11_cert(const struct accord_p11 *p)
{
	return p->cert;
}

const char *accord_p11_token_label(const struct accord_p11 *p)
{
	return p->label;
}

bool accord_p11_needs_pin(const struct accord_p11 *p)
{
	return p->needs_pin;
}

int accord_p11_login(struct accord_p11 *p, const char *pin, struct accord_err *err)
{
	PKCS11_KEY *keys = NULL;
	unsigned n = 0, i;
	int r;

	if (p->key)
		return 0;
	if (p->needs_pin) {
		if (!pin || !*pin)
			return accord_err_set(err, -EACCES, "token \"%s\" wants a PIN", p->label);
		if (PKCS11_login(p->slot, 0, pin) != 0) {
			r = accord_err_set(err, -EACCES, "token \"%s\" refused the PIN", p->label);
			goto out;
		}
		p->logged_in = true;
	}
	if (PKCS11_enumerate_keys(p->slot->token, &keys, &n) != 0)
		n = 0;
	for (i = 0; i < n; i++) {
		if (!keys[i].isPrivate || keys[i].id_len != p->id_len ||
		    memcmp(keys[i].id, p->id, p->id_len))
			continue;
		p->key = PKCS11_get_private_key(&keys[i]);
		if (p->key)
			break;
	}
	if (!p->key) {
		r = accord_err_set(err, -ENOKEY,
				   "token \"%s\" holds no private key with the certificate's ID",
				   p->label);
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	return r;
}

int accord_p11_sign(struct accord_p11 *p, const unsigned char *msg, size_t msg_len,
		    unsigned char *sig, size_t *sig_len, struct accord_err *err)
{
	if (!p->key)
		return accord_err_set(err, -ENOKEY, "token \"%s\": not logged in", p->label);
	return accord_pop_sign(p->key, msg, msg_len, sig, sig_len, err);
}

/* Signs msg on the token and checks the signature with the certificate's
 * key. */
static int p11_sign_checked(struct accord_p11 *p, const unsigned char *msg, size_t msg_len,
			    unsigned char *sig, size_t *sig_len, struct accord_err *err)
{
	EVP_PKEY *pub;
	int r;

	r = accord_p11_sign(p, msg, msg_len, sig, sig_len, err);
	if (r < 0)
		return accord_err_prefix(err, r, "token \"%s\"", p->label);
	pub = X509_get0_pubkey(p->cert);
	if (!pub) {
		ERR_clear_error();
		return accord_err_set(err, -EKEYREJECTED, "the certificate's key cannot be read");
	}
	r = accord_pop_verify(pub, msg, msg_len, sig, *sig_len, err);
	if (r == -EACCES)
		r = accord_err_set(err, -EACCES,
				   "token \"%s\": the key with the certificate's ID does not match it",
				   p->label);
	return r;
}

int accord_p11_answer_signature(struct accord_p11 *p, const struct accord_pop_challenge *c,
				char *out, size_t size, struct accord_err *err)
{
	unsigned char sig[ACCORD_POP_SIG_MAX];
	size_t sl = sizeof(sig);
	int r;

	if (size < ACCORD_POP_ANSWER_MAX + 1)
		return accord_err_set(err, -EMSGSIZE, "no room for the answer");
	r = p11_sign_checked(p, (const unsigned char *)c->text, c->len, sig, &sl, err);
	if (r == 0)
		b64_encode(sig, sl, false, out);
	return r;
}

int accord_p11_prove(struct accord_p11 *p, struct accord_err *err)
{
	unsigned char chal[32], sig[ACCORD_POP_SIG_MAX];
	size_t sl = sizeof(sig);

	if (RAND_bytes(chal, sizeof(chal)) != 1) {
		ERR_clear_error();
		return accord_err_set(err, -EIO, "no random bytes for the challenge");
	}
	return p11_sign_checked(p, chal, sizeof(chal), sig, &sl, err);
}

void accord_p11_close(struct accord_p11 *p)
{
	if (!p)
		return;
	EVP_PKEY_free(p->key);
	if (p->logged_in)
		PKCS11_logout(p->slot);
	X509_free(p->cert);
	if (p->slots)
		PKCS11_release_all_slots(p->ctx, p->slots, p->nslots);
	if (p->ctx) {
		PKCS11_CTX_unload(p->ctx);
		PKCS11_CTX_free(p->ctx);
	}
	ERR_clear_error();
	explicit_bzero(p, sizeof(*p));
	free(p);
}
