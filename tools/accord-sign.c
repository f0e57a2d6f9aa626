/* SPDX-License-Identifier: MIT */
/*
 * accord-sign: the client side of pam_accord's certificate challenge
 * (methods=cert, cert_source=challenge; protocol in
 * include/accord/certpop.h).
 *
 *   accord-sign --cert FILE [--chain FILE] --key FILE [OPTIONS] [PROMPT]
 *   accord-sign --pkcs11 MODULE [--chain FILE] [--pin-file FILE] [OPTIONS] [PROMPT]
 *
 * It reads one prompt (the argument, or one line of stdin), checks that
 * it is an accord challenge, and prints the answer for the step the
 * prompt asks for: a certificate part, or the signature over the
 * challenge.  It keeps no state between runs, so it works as ssh's
 * SSH_ASKPASS, which runs `$SSH_ASKPASS "<prompt>"` once per prompt and
 * passes no options: then everything comes from the environment
 * (ACCORD_SIGN_CERT, ACCORD_SIGN_CHAIN, ACCORD_SIGN_KEY, ACCORD_SIGN_PKCS11,
 * ACCORD_SIGN_PIN_FILE, ACCORD_SIGN_PIN, ACCORD_SIGN_EXPECT_HOST); options
 * win over the environment.
 *
 * The key file must not be accessible by group or others (as ssh
 * demands of its keys); encrypted PEM keys are not read (there is no
 * terminal in askpass mode: use a token).  The PIN of a token comes from
 * ACCORD_SIGN_PIN or a --pin-file readable only by its owner, and is
 * used only at the signature step.  Before signing it tells, on stderr,
 * which host, service and time it signs for; --expect-host refuses any
 * other host.
 *
 * Exit status: 0 answer printed, 1 refused (bad prompt, bad file, wrong
 * host, signing failed), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <accord/certpop.h>

#include "accord_config.h"

#define FILE_MAX (64 * 1024)
#define LINE_MAX_IN 4096

static const char usage_text[] =
	"usage: accord-sign --cert FILE [--chain FILE] --key FILE [OPTIONS] [PROMPT]\n"
	"       accord-sign --pkcs11 MODULE [--chain FILE] [--pin-file FILE] [OPTIONS] [PROMPT]\n"
	"\n"
	"Answers one prompt of pam_accord's certificate challenge (\"accord-challenge\n"
	"v1 host=... want=...\") with a certificate part or the signature.  The prompt\n"
	"is the argument (as ssh runs SSH_ASKPASS) or one line of standard input; the\n"
	"answer goes to standard output.\n"
	"\n"
	"  --cert FILE          the certificate (PEM or DER)\n"
	"  --chain FILE         intermediate certificates to send along (PEM)\n"
	"  --key FILE           its private key (PEM, not encrypted, mode 0600 or\n"
	"                       stricter)\n"
	"  --pkcs11 MODULE      sign with a token: absolute path of the PKCS#11\n"
	"                       module (root-owned, not group/other-writable); the\n"
	"                       certificate is the token's\n"
	"  --pin-file FILE      the token's PIN, first line (mode 0600 or stricter);\n"
	"                       else $ACCORD_SIGN_PIN\n"
	"  --expect-host NAME   refuse challenges from any other host\n"
	"  -v, --verbose        say on stderr what each step sends\n"
	"  -h, --help           this text\n"
	"  --version\n"
	"\n"
	"Environment (for SSH_ASKPASS, which passes no options): ACCORD_SIGN_CERT,\n"
	"ACCORD_SIGN_CHAIN, ACCORD_SIGN_KEY, ACCORD_SIGN_PKCS11, ACCORD_SIGN_PIN_FILE,\n"
	"ACCORD_SIGN_PIN, ACCORD_SIGN_EXPECT_HOST.  Example:\n"
	"\n"
	"  SSH_ASKPASS=/usr/bin/accord-sign SSH_ASKPASS_REQUIRE=force \\\n"
	"  ACCORD_SIGN_CERT=~/.accord/cert.pem ACCORD_SIGN_KEY=~/.accord/key.pem \\\n"
	"  ssh -o PreferredAuthentications=keyboard-interactive alice@host\n";

struct opts {
	const char *cert, *chain, *key, *pkcs11, *pin_file, *expect_host;
	bool verbose;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("accord-sign: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Reads a whole file of at most FILE_MAX bytes.  secret: it must be a
 * regular file not accessible by group or others. */
static int read_file(const char *path, bool secret, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	ssize_t n;
	int fd, r;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		say("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		say("%s is not a regular file", path);
		r = -EINVAL;
		goto out;
	}
	if (secret && (st.st_mode & 077)) {
		say("permissions %04o for %s are too open: it must not be accessible by group or others (chmod 600)",
		    (unsigned)(st.st_mode & 07777), path);
		r = -EPERM;
		goto out;
	}
	buf = malloc(FILE_MAX + 1);
	if (!buf) {
		say("out of memory");
		r = -ENOMEM;
		goto out;
	}
	while ((n = read(fd, buf + have, FILE_MAX + 1 - have)) > 0) {
		have += (size_t)n;
		if (have > FILE_MAX)
			break;
	}
	if (n < 0 || have > FILE_MAX) {
		say(n < 0 ? "cannot read %s" : "%s is larger than 64 KiB", path);
		r = n < 0 ? -EIO : -EFBIG;
		goto out;
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	buf = NULL;
	r = 0;
out:
	if (buf) {
		explicit_bzero(buf, FILE_MAX + 1);
		free(buf);
	}
	close(fd);
	return r;
}

static void wipe_free(char *buf, size_t len)
{
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
}

static X509 *load_cert(const char *path)
{
	const unsigned char *p;
	X509 *x = NULL;
	size_t len;
	char *text;
	BIO *bio;

	if (read_file(path, false, &text, &len) < 0)
		return NULL;
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!x) {
		p = (const unsigned char *)text;
		x = d2i_X509(NULL, &p, (long)len);
	}
	if (!x)
		say("%s is not a certificate (PEM or DER)", path);
	BIO_free(bio);
	free(text);
	ERR_clear_error();
	return x;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static EVP_PKEY *load_key(const char *path)
{
	EVP_PKEY *key = NULL;
	size_t len;
	char *text;
	BIO *bio;

	if (read_file(path, true, &text, &len) < 0)
		return NULL;
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio)
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (!key)
		say("%s is not an unencrypted PEM private key", path);
	BIO_free(bio);
	wipe_free(text, len);
	ERR_clear_error();
	return key;
}

static STACK_OF(X509) *load_chain(const char *path, bool *ok)
{
	struct accord_err err = { 0 };
	STACK_OF(X509) *chain = NULL;
	size_t len;
	char *text;

	*ok = false;
	if (read_file(path, false, &text, &len) < 0)
		return NULL;
	if (accord_pop_chain_from_pem(text, &chain, &err) < 0)
		say("%s: %s", path, err.msg);
	else
		*ok = true;
	free(text);
	return chain;
}

/* The token's PIN: --pin-file (first line), else $ACCORD_SIGN_PIN. */
static char *load_pin(const char *pin_file)
{
	const char *env;
	size_t len;
	char *text;

	if (pin_file) {
		char *pin;

		if (read_file(pin_file, true, &text, &len) < 0)
			return NULL;
		pin = strndup(text, strcspn(text, "\r\n"));
		wipe_free(text, len);
		if (!pin)
			say("out of memory");
		return pin;
	}
	env = getenv("ACCORD_SIGN_PIN");
	if (env)
		return strdup(env);
	return NULL;
}

/* One line of stdin, without its line end. */
static int read_prompt(char *buf, size_t size)
{
	size_t n;

	if (!fgets(buf, (int)size, stdin)) {
		say("no prompt on standard input");
		return -1;
	}
	n = strlen(buf);
	if (n == size - 1 && buf[n - 1] != '\n') {
		say("the prompt is longer than %zu bytes", size - 2);
		return -1;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static const char *opt_or_env(const char *opt, const char *env)
{
	const char *v = opt ? opt : getenv(env);

	return v && *v ? v : NULL;
}

/* The bundle of our certificate and chain, from files or the token. */
static int make_bundle(const struct opts *o, X509 *cert, unsigned char **der, size_t *len)
{
	struct accord_err err = { 0 };
	STACK_OF(X509) *chain = NULL;
	bool ok = true;
	int r;

	if (o->chain) {
		chain = load_chain(o->chain, &ok);
		if (!ok)
			return -1;
	}
	r = accord_pop_bundle_make(cert, chain, der, len, &err);
	if (r < 0)
		say("%s", err.msg);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

static void show_target(const struct accord_pop_challenge *c)
{
	char when[64] = "?";
	time_t t = (time_t)c->time;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	say("signing for host %s, service %s, challenge issued %s", c->host, c->service, when);
}

static int answer(const struct opts *o, const struct accord_pop_request *req, char *out)
{
	struct accord_err err = { 0 };
	struct accord_p11 *p11 = NULL;
	unsigned char *der = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	char *pin = NULL;
	size_t len = 0;
	int r = -1;

	if (o->pkcs11) {
		if (accord_p11_open(o->pkcs11, &p11, &err) < 0) {
			say("%s", err.msg);
			goto out;
		}
		cert = accord_p11_cert(p11);
		if (!X509_up_ref(cert)) {
			cert = NULL;
			goto out;
		}
	} else {
		cert = load_cert(o->cert);
		if (!cert)
			goto out;
	}

	if (req->want == ACCORD_POP_WANT_CERT) {
		if (make_bundle(o, cert, &der, &len) < 0)
			goto out;
		if (accord_pop_answer_part(der, len, req->part, out, ACCORD_POP_ANSWER_MAX + 1,
					   &err) < 0) {
			say("%s", err.msg);
			goto out;
		}
		if (o->verbose)
			say("certificate part %u of %u for host %s", req->part,
			    accord_pop_nparts(len), req->ch.host);
		r = 0;
		goto out;
	}

	show_target(&req->ch);
	if (p11) {
		pin = load_pin(o->pin_file);
		if (!pin && o->pin_file)
			goto out;
		if (accord_p11_login(p11, pin, &err) < 0 ||
		    accord_p11_answer_signature(p11, &req->ch, out, ACCORD_POP_ANSWER_MAX + 1,
						&err) < 0) {
			say("%s", err.msg);
			goto out;
		}
		r = 0;
		goto out;
	}
	key = load_key(o->key);
	if (!key)
		goto out;
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		say("the key in %s does not belong to the certificate in %s", o->key, o->cert);
		goto out;
	}
	if (accord_pop_answer_signature(key, &req->ch, out, ACCORD_POP_ANSWER_MAX + 1, &err) < 0) {
		say("%s", err.msg);
		goto out;
	}
	r = 0;
out:
	if (pin)
		wipe_free(pin, strlen(pin));
	EVP_PKEY_free(key);
	X509_free(cert);
	free(der);
	accord_p11_close(p11);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "chain", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'k' },
		{ "pkcs11", required_argument, NULL, 'p' },
		{ "pin-file", required_argument, NULL, 'P' },
		{ "expect-host", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	struct accord_pop_request req;
	struct accord_err err = { 0 };
	char in[LINE_MAX_IN + 2], out[ACCORD_POP_ANSWER_MAX + 1];
	const char *prompt;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.cert = optarg; break;
		case 'C': o.chain = optarg; break;
		case 'k': o.key = optarg; break;
		case 'p': o.pkcs11 = optarg; break;
		case 'P': o.pin_file = optarg; break;
		case 'H': o.expect_host = optarg; break;
		case 'v': o.verbose = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': puts("accord-sign " ACCORD_VERSION); return 0;
		default: fputs(usage_text, stderr); return 2;
		}
	}
	o.cert = opt_or_env(o.cert, "ACCORD_SIGN_CERT");
	o.chain = opt_or_env(o.chain, "ACCORD_SIGN_CHAIN");
	o.key = opt_or_env(o.key, "ACCORD_SIGN_KEY");
	o.pkcs11 = opt_or_env(o.pkcs11, "ACCORD_SIGN_PKCS11");
	o.pin_file = opt_or_env(o.pin_file, "ACCORD_SIGN_PIN_FILE");
	o.expect_host = opt_or_env(o.expect_host, "ACCORD_SIGN_EXPECT_HOST");
	if (argc - optind > 1 || (o.pkcs11 ? o.cert || o.key : !o.cert || !o.key)) {
		say(o.pkcs11 ? "--pkcs11 takes the token's certificate: no --cert or --key" :
			       "--cert and --key (or --pkcs11) are needed, and one prompt at most");
		fputs(usage_text, stderr);
		return 2;
	}

	if (optind < argc) {
		prompt = argv[optind];
	} else {
		if (read_prompt(in, sizeof(in)) < 0)
			return 1;
		prompt = in;
	}
	if (accord_pop_prompt_parse(prompt, &req, &err) < 0) {
		say("%s", err.msg);
		return 1;
	}
	if (o.expect_host && strcasecmp(o.expect_host, req.ch.host)) {
		say("refusing: the challenge is for host %s, not %s", req.ch.host, o.expect_host);
		return 1;
	}
	if (answer(&o, &req, out) == 0) {
		if (puts(out) >= 0 && fflush(stdout) == 0)
			rc = 0;
		else
			say("cannot write the answer: %s", strerror(errno));
	}
	explicit_bzero(out, sizeof(out));
	return rc;
}
