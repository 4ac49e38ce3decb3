/* test_validate.c: unit tests of the offline validators and the placeholder test. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/validate.h"
#include "support.h"

/* ------------------------------------------------------------------------ fixtures */

/*
 * SYNTHETIC TEST MATERIAL. Every key, token and credential below was generated for this
 * test when it was written (commands noted at each) and has never been used anywhere: they
 * are not secrets. Tokens were made with a seeded Python random.Random(20240601) and
 * zlib.crc32 over the 30-character body, the scheme of real GitHub and npm tokens. They are
 * written in pieces ('|' between them, support.h) that main() joins before any test runs, so
 * that this file and its binary spell none of them whole.
 */

/* openssl genrsa -traditional 512 */
static char RSA_PEM[] =
    "-----BEGIN| RSA PRIVATE KEY-----\n"
    "MIIBOgIBAAJBAJ3q7vgFCod987a8ssXBCarSR0I/LOqypMQrCzXQWKQJ8a40LYyM\n"
    "KoSalKzIMzZhQVpCq9a7el1Ku1sYgCTb1EcCAwEAAQJAKIC+Q/y/A5tpa+AgFhp5\n"
    "yUdfoX0knxmsqufDW00RvxiqniqPpkb3wGhloCYfb6VbqxgRDaeM5VlA5CMfr+t0\n"
    "aQIhANDbhlmnM8bDsAVaDErdmtPuCPR9PSp9ZXGXJm/63cilAiEAwY/wTyd6v3pO\n"
    "2TXkcNdLFzL+0d6AokE+PhfkiqhiKXsCIDOw4UN3Gl1rOTlZ3Aj7Z8Jj+1tnU6gc\n"
    "eOrwGddFI3bxAiBm1BDV/CM5lcBNpFO3nqhFqtG0rH+psv9d/VNsVgfQAQIhAMHJ\n"
    "d0ccqIJDnKuCrbhAvHxo93odlRAWY7506IQ5shLd\n"
    "-----END RSA PRIVATE KEY-----\n";
/* openssl ecparam -name prime256v1 -genkey -noout */
static char EC_PEM[] =
    "-----BEGIN| EC PRIVATE KEY-----\n"
    "MHcCAQEEIPz5V4iPgJ77X2kFReRgO6Xx117jiDX9BgkDCR/VCCKWoAoGCCqGSM49\n"
    "AwEHoUQDQgAEQksR6S/XVGNZqVy87hYEwa4tGKkIQ2n3vAwz1bNLwv9wTObdJFg6\n"
    "sGHsZmypAv64PLhzQ6pcr5dO3UuzzQFv9g==\n"
    "-----END EC PRIVATE KEY-----\n";
/* openssl genpkey -algorithm ed25519 */
static char PKCS8_PEM[] =
    "-----BEGIN| PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDFhwMz7CVU4nhqXftrxjsmbhs4EleVzFN5vR5SPhpzE\n"
    "-----END PRIVATE KEY-----\n";
/* openssl rsa -traditional -aes128 of RSA_PEM */
static char RSA_ENCRYPTED_PEM[] =
    "-----BEGIN| RSA PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-128-CBC,2E22916BAB6992FC2BDCC59ECF38BB3B\n"
    "\n"
    "GZT6Kjgs2bcbPWe5pzpqYCP5jPilmQTQGhE+1zJOIz+tyBVUnpLKRUSYQTVecw8L\n"
    "VIaNHg0fxeZC8os3MH8vuwgPNU/pjsbJnloU9RTXlfExIS/V+3RaRR7rr78oT1U4\n"
    "9UbUgNJNxfaQta71zaxhya67tLzH7QN69g5TwkuA51+vpq55kl4ScaMsHlEgiHHv\n"
    "POiv0uz5sIcnZXu8SMsFxUt8W68FRxnb6CN6zdcPAv3R+UTrIj/FICHzFqOqG7HZ\n"
    "5Gd1kpGhzoqmdCWKmT00tr4pioPZ0wgCK8m5eKuxJSXsig4N3tfHvTAa3ub++aYe\n"
    "ElcBVUaujrSqYl2urIcS08uuVnMDDzekl4VCg8TfSHg/I3NCoZ5Zz6+U91gZYvnH\n"
    "EefD4V/TgeMT9eO4vJZajttOhJ6I/22SarSR0AKYY5I=\n"
    "-----END RSA PRIVATE KEY-----\n";
/* ssh-keygen -t ed25519 -N "" */
static char OPENSSH_PEM[] =
    "-----BEGIN| OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACAulihTXd6UT7/aytWuKq7Um6IUBwA6Vic1TYNQzL+xBQAAAJA8ybyzPMm8\n"
    "swAAAAtzc2gtZWQyNTUxOQAAACAulihTXd6UT7/aytWuKq7Um6IUBwA6Vic1TYNQzL+xBQ\n"
    "AAAEByQJC0z24PXpHK3TcIHdIieQ7y/+tVoXdCkzE42BZnSC6WKFNd3pRPv9rK1a4qrtSb\n"
    "ohQHADpWJzVNg1DMv7EFAAAACXN5bnRoZXRpYwECAwQ=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
/* gpg --quick-gen-key ed25519; --export-secret-keys --armor */
static char PGP_BLOCK[] =
    "-----BEGIN| PGP PRIVATE KEY BLOCK-----\n"
    "\n"
    "lFgEawlrWxYJKwYBBAHaRw8BAQdAXxb9wFC/aO98tlK87nnnr/i34C8je1NO1ZO4\n"
    "VV8aR0kAAP94rITNBCDDmnsoCCTdmNJ+4TnhAdrCPb4sKnYvlDJugQ/MtCpTeW50\n"
    "aGV0aWMgVGVzdCA8c3ludGhldGljQGV4YW1wbGUuaW52YWxpZD6IkAQTFggAOBYh\n"
    "BB5DCVJqW35hlLAqn50Y0o7A6o6+BQJrCWtbAhsDBQsJCAcCBhUKCQgLAgQWAgMB\n"
    "Ah4BAheAAAoJEJ0Y0o7A6o6+1hABAOqpz7TpobJzhKRA3FXeHylsT+P49+p2Vgef\n"
    "qvblVPYtAQDvmPEycbUNcyV1fJzO1l7Ie3P+128XLg2d1eIFNmB4CQ==\n"
    "=vcdb\n"
    "-----END PGP PRIVATE KEY BLOCK-----\n";
/* puttygen OPENSSH_PEM -O private */
static char PUTTY_PPK[] =
    "PuTTY-User-|Key-File-3: ssh-ed25519\n"
    "Encryption: none\n"
    "Comment: synthetic\n"
    "Public-Lines: 2\n"
    "AAAAC3NzaC1lZDI1NTE5AAAAIC6WKFNd3pRPv9rK1a4qrtSbohQHADpWJzVNg1DM\n"
    "v7EF\n"
    "Private-Lines: 1\n"
    "AAAAIHJAkLTPbg9ekcrdNwgd0iJ5DvL/61Whd0KTMTjYFmdI\n"
    "Private-MAC: 95a2029b20dddce222d363bd02de70eaae0ab3e3f69873cecbc704640434891a\n";

static char GITHUB_TOKENS[][48] = {
    "ghp_7TQU|oGbwsFRK|CzRYOs4M|QvIqsaWL|380yavFU",
    "gho_fujb|G8vyWvJb|iZ4uuffN|G2QbatDT|3b4Gor9U",
    "ghu_rUGJ|D5H8Eesc|LPy3QeI9|eI6GKRn1|4D2DiM0k",
    "ghs_EOcQ|UhYCxK5t|RxpEYgFo|HgmodOrQ|Vq0HPk8z",
    "ghr_orOB|94LixZrO|QGzkLmDB|OXGBhEOb|Z93KoSBd",
    "ghp_SfHr|TfnKbKxn|d49JeCAj|vgbEYv5L|gC0u82vC", /* checksum "0u82vC": zero-padded */
    "ghp_V7ZU|DMYlf0KK|uYqlXCUu|t57Ei9Pg|ri2dMMa3",
};
/* The same body with a CRC32 over prefix + body: not how GitHub computes it. */
static char GITHUB_PREFIX_CRC[] = "ghp_V7ZU|DMYlf0KK|uYqlXCUu|t57Ei9Pg|ri3tqwqG";

static char NPM_TOKENS[][48] = {
    "npm_rdoT|dKV5NPZp|uxC3sPHL|SJTe7yq0|l20z7huO",
    "npm_HV82|55WTqZf5|DehTNXfM|NY8v9eOz|1a33XeBp",
};

static char JWT[] = "eyJhbGci|OiJIUzI1|NiIsInR5|cCI6IkpX|VCJ9."
                    "eyJzdWIi|OiJzeW50|aGV0aWMi|LCJpYXQi|OjE3MDAw|MDAwMDB9|."
                    "sd1vO7oE|2XC5qPCZ|42XoOMN5|hbQtYgW-|Db54QvFO|r9o";

static char PYPI_TOKEN[] =
    "pypi-AgE|IcHlwaS5|vcmcCJQA|CAQ9We49|FuQQdxpR|1jiHLe9S|5iZvOaH4|dUI3n9Aq|VCX2ipLC|"
    "l6yui74_|-_UkEa|rs5Lz1vg|GFTg_w-2|YmEzw";
static char TEST_PYPI_TOKEN[] =
    "pypi-AgE|NdGVzdC5|weXBpLm9|yZwIlAJe|uvXJbTVZ|7y3ZB4ki|bRbruLwR|s1pG9zAp|T3GHfgIh|"
    "MbMpilNt|4osYrR|agw0qhN9|L6HJ4V5E|jauPItVT|A";

/* ------------------------------------------------------------------------- helpers */

static enum rmg_validity check_n(const char *validator, const char *secret, size_t n)
{
    rmg_validator_fn fn = rmg_validate_find(validator);
    assert_non_null(fn);
    return fn(secret, n, secret, n);
}

static enum rmg_validity check(const char *validator, const char *secret)
{
    return check_n(validator, secret, strlen(secret));
}

/* Copies in to out replacing every from character by the string to (a JSON "\n" escape,
 * a CRLF line end, a space). */
static const char *replace_char(const char *in, char from, const char *to, char *out,
                                size_t cap)
{
    size_t len = 0, k = strlen(to);
    for (const char *p = in; *p != '\0'; p++) {
        const char *piece = *p == from ? to : p;
        size_t plen = *p == from ? k : 1;
        assert_true(len + plen < cap);
        memcpy(out + len, piece, plen);
        len += plen;
    }
    out[len] = '\0';
    return out;
}

/* Copies in to out without its line number `drop` (0-based). */
static const char *drop_line(const char *in, int drop, char *out, size_t cap)
{
    size_t len = 0;
    int line = 0;
    for (const char *p = in; *p != '\0'; p++) {
        if (line != drop) {
            assert_true(len + 1 < cap);
            out[len++] = *p;
        }
        if (*p == '\n')
            line++;
    }
    out[len] = '\0';
    return out;
}

/* Copies in to out with the first occurrence of what replaced by with. */
static const char *replace_once(const char *in, const char *what, const char *with,
                                char *out, size_t cap)
{
    const char *at = strstr(in, what);
    assert_non_null(at);
    size_t head = (size_t)(at - in), wlen = strlen(with), rest = strlen(at + strlen(what));
    assert_true(head + wlen + rest < cap);
    memcpy(out, in, head);
    memcpy(out + head, with, wlen);
    memcpy(out + head + wlen, at + strlen(what), rest + 1);
    return out;
}

/* ------------------------------------------------------------------------ registry */

static void test_find_and_names(void **state)
{
    (void)state;
    const char *const *names = rmg_validate_names();
    size_t count = 0;
    assert_non_null(names);
    for (; names[count] != NULL; count++)
        assert_non_null(rmg_validate_find(names[count]));
    assert_int_equal(count, 7);
    const char *const expected[] = {"github", "npm", "pem", "jwt", "aws_key_id",
                                    "basic_auth", "pypi"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_non_null(rmg_validate_find(expected[i]));
    assert_null(rmg_validate_find("nope"));
    assert_null(rmg_validate_find(""));
    assert_null(rmg_validate_find("GitHub"));
    assert_null(rmg_validate_find(NULL));
}

/* -------------------------------------------------------------------------- base64 */

static void test_base64_decode(void **state)
{
    (void)state;
    unsigned char out[64];
    assert_int_equal(rmg_validate_base64_decode("", 0, out, sizeof out, false), 0);
    assert_int_equal(rmg_validate_base64_decode("Zm9vYmFy", 8, out, sizeof out, false), 6);
    assert_memory_equal(out, "foobar", 6);
    assert_int_equal(rmg_validate_base64_decode("Zm9vYg==", 8, out, sizeof out, false), 4);
    assert_memory_equal(out, "foob", 4);
    assert_int_equal(rmg_validate_base64_decode("Zm9vYg", 6, out, sizeof out, false), 4);
    assert_int_equal(rmg_validate_base64_decode("Zm9vYmE=", 8, out, sizeof out, false), 5);
    assert_memory_equal(out, "fooba", 5);
    assert_int_equal(rmg_validate_base64_decode("Zm9v\r\nYmFy ", 11, out, sizeof out, false),
                     6);
    assert_memory_equal(out, "foobar", 6);

    /* Alphabets: "+/" standard, "-_" url-safe, never mixed. */
    assert_int_equal(rmg_validate_base64_decode("+/8=", 4, out, sizeof out, false), 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(rmg_validate_base64_decode("-_8", 3, out, sizeof out, true), 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(rmg_validate_base64_decode("-_8=", 4, out, sizeof out, false), SIZE_MAX);
    assert_int_equal(rmg_validate_base64_decode("+/8=", 4, out, sizeof out, true), SIZE_MAX);

    /* Malformed: a lone final character, data after padding, too much padding, junk. */
    assert_int_equal(rmg_validate_base64_decode("Zm9vY", 5, out, sizeof out, false), SIZE_MAX);
    assert_int_equal(rmg_validate_base64_decode("Zg==Zg==", 8, out, sizeof out, false),
                     SIZE_MAX);
    assert_int_equal(rmg_validate_base64_decode("Z===", 4, out, sizeof out, false), SIZE_MAX);
    assert_int_equal(rmg_validate_base64_decode("Zm9v===", 7, out, sizeof out, false),
                     SIZE_MAX);
    assert_int_equal(rmg_validate_base64_decode("....", 4, out, sizeof out, false), SIZE_MAX);
    assert_int_equal(rmg_validate_base64_decode("Zm9v\\n", 6, out, sizeof out, false),
                     SIZE_MAX);

    /* Like snprintf: the full length is returned, only cap bytes are written. */
    memset(out, 0xAA, sizeof out);
    assert_int_equal(rmg_validate_base64_decode("Zm9vYmFy", 8, out, 2, false), 6);
    assert_memory_equal(out, "fo", 2);
    assert_int_equal(out[2], 0xAA);
    assert_int_equal(rmg_validate_base64_decode("Zm9vYmFy", 8, NULL, 0, false), 6);
}

/* ------------------------------------------------------------------ GitHub and npm */

static void test_crc32_base62(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof GITHUB_TOKENS / sizeof GITHUB_TOKENS[0]; i++) {
        assert_true(rmg_validate_crc32_base62(GITHUB_TOKENS[i], strlen(GITHUB_TOKENS[i])));
        /* The bare body (after "ghp_") carries the same checksum. */
        assert_true(rmg_validate_crc32_base62(GITHUB_TOKENS[i] + 4, 36));
    }
    for (size_t i = 0; i < sizeof NPM_TOKENS / sizeof NPM_TOKENS[0]; i++)
        assert_true(rmg_validate_crc32_base62(NPM_TOKENS[i], strlen(NPM_TOKENS[i])));
    assert_false(rmg_validate_crc32_base62(GITHUB_PREFIX_CRC, strlen(GITHUB_PREFIX_CRC)));
    assert_false(rmg_validate_crc32_base62("ghp_", 4));
    assert_false(rmg_validate_crc32_base62("ghp_abcdef", 10)); /* no body before checksum */
    assert_false(rmg_validate_crc32_base62(NULL, 0));
}

static void test_github_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof GITHUB_TOKENS / sizeof GITHUB_TOKENS[0]; i++) {
        assert_int_equal(check("github", GITHUB_TOKENS[i]), RMG_VALIDITY_VALID);
        /* A rule whose secret group holds the body alone. */
        assert_int_equal(check("github", GITHUB_TOKENS[i] + 4), RMG_VALIDITY_VALID);
    }
}

static void test_github_invalid(void **state)
{
    (void)state;
    char buf[64];
    for (size_t i = 0; i < sizeof GITHUB_TOKENS / sizeof GITHUB_TOKENS[0]; i++) {
        /* Any change to one character breaks the checksum. */
        for (size_t pos = 4; pos < 40; pos += 5) {
            memcpy(buf, GITHUB_TOKENS[i], 41);
            buf[pos] = buf[pos] == 'a' ? 'b' : 'a';
            assert_int_equal(check("github", buf), RMG_VALIDITY_INVALID);
        }
    }
    assert_int_equal(check("github", GITHUB_PREFIX_CRC), RMG_VALIDITY_INVALID);
    assert_int_equal(check("github", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("github", "ghp_7TQUoGbwsFRKCzRYOs4MQvIqsaWL380yavF!"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("github", "ghp_short"), RMG_VALIDITY_INVALID);
    /* Fine-grained tokens and unrelated text: nothing to prove. */
    assert_int_equal(check("github", "github_pat_11ABCDEFG0123456789abc_"
                                     "0123456789abcdefghijABCDEFGHIJ0123456789abcdefghijABCDEFGHI"),
                     RMG_VALIDITY_UNKNOWN);
    assert_int_equal(check("github", "hello"), RMG_VALIDITY_UNKNOWN);
}

static void test_npm(void **state)
{
    (void)state;
    char buf[64];
    for (size_t i = 0; i < sizeof NPM_TOKENS / sizeof NPM_TOKENS[0]; i++) {
        assert_int_equal(check("npm", NPM_TOKENS[i]), RMG_VALIDITY_VALID);
        memcpy(buf, NPM_TOKENS[i], 41);
        buf[39] = buf[39] == 'Z' ? 'Y' : 'Z';
        assert_int_equal(check("npm", buf), RMG_VALIDITY_INVALID);
    }
    assert_int_equal(check("npm", "npm_000000000000000000000000000000000000"),
                     RMG_VALIDITY_INVALID);
    /* A GitHub token is not an npm token: its prefix is not npm's. */
    assert_int_equal(check("npm", "hello"), RMG_VALIDITY_UNKNOWN);
}

/* ------------------------------------------------------------------------------ pem */

static void test_pem_valid(void **state)
{
    (void)state;
    assert_int_equal(check("pem", RSA_PEM), RMG_VALIDITY_VALID);
    assert_int_equal(check("pem", EC_PEM), RMG_VALIDITY_VALID);
    assert_int_equal(check("pem", PKCS8_PEM), RMG_VALIDITY_VALID);
    assert_int_equal(check("pem", RSA_ENCRYPTED_PEM), RMG_VALIDITY_VALID);
    assert_int_equal(check("pem", OPENSSH_PEM), RMG_VALIDITY_VALID);
    assert_int_equal(check("pem", PGP_BLOCK), RMG_VALIDITY_VALID);
    assert_int_equal(check("pem", PUTTY_PPK), RMG_VALIDITY_VALID);
}

static void test_pem_encodings(void **state)
{
    (void)state;
    static char buf[8192];
    const char *const keys[] = {RSA_PEM, EC_PEM, RSA_ENCRYPTED_PEM, OPENSSH_PEM, PGP_BLOCK,
                                PUTTY_PPK};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        /* As a JSON string holds it, as Windows writes it, doubly escaped. */
        assert_int_equal(check("pem", replace_char(keys[i], '\n', "\\n", buf, sizeof buf)),
                         RMG_VALIDITY_VALID);
        assert_int_equal(check("pem", replace_char(keys[i], '\n', "\r\n", buf, sizeof buf)),
                         RMG_VALIDITY_VALID);
        assert_int_equal(check("pem", replace_char(keys[i], '\n', "\\r\\n", buf, sizeof buf)),
                         RMG_VALIDITY_VALID);
        assert_int_equal(check("pem", replace_char(keys[i], '\n', "\\\\n", buf, sizeof buf)),
                         RMG_VALIDITY_VALID);
        /* Indented, as in a YAML block. */
        assert_int_equal(check("pem", replace_char(keys[i], '\n', "\n    ", buf, sizeof buf)),
                         RMG_VALIDITY_VALID);
    }
    /* An environment variable with the line breaks turned into spaces. */
    assert_int_equal(check("pem", replace_char(RSA_PEM, '\n', " ", buf, sizeof buf)),
                     RMG_VALIDITY_VALID);
    assert_int_equal(check("pem", replace_char(OPENSSH_PEM, '\n', " ", buf, sizeof buf)),
                     RMG_VALIDITY_VALID);
    assert_int_equal(check("pem", replace_char(PGP_BLOCK, '\n', " ", buf, sizeof buf)),
                     RMG_VALIDITY_VALID);
    /* A PGP block with armour headers before the blank line. */
    assert_int_equal(check("pem", replace_once(PGP_BLOCK, "BLOCK-----\n",
                                               "BLOCK-----\nVersion: GnuPG v2\n"
                                               "Comment: synthetic\n",
                                               buf, sizeof buf)),
                     RMG_VALIDITY_VALID);
    /* The rule's secret group may hold only the body; the armour is in the match. */
    const char *body = strchr(RSA_PEM, '\n') + 1;
    rmg_validator_fn pem = rmg_validate_find("pem");
    assert_int_equal(pem(body, 100, RSA_PEM, strlen(RSA_PEM)), RMG_VALIDITY_VALID);
}

static void test_pem_invalid(void **state)
{
    (void)state;
    static char buf[8192];
    assert_int_equal(check("pem", "-----BEGIN RSA PRIVATE KEY-----\n...\n"
                                  "-----END RSA PRIVATE KEY-----"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", "-----BEGIN RSA PRIVATE KEY-----\nxxxx\n"
                                  "-----END RSA PRIVATE KEY-----"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", "-----BEGIN PRIVATE KEY-----\n"
                                  "<your private key here>\n-----END PRIVATE KEY-----"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", "-----BEGIN EC PRIVATE KEY-----\n"
                                  "-----END EC PRIVATE KEY-----"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
                                  "-----END OPENSSH PRIVATE KEY-----"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
                                  "...\n-----END PGP PRIVATE KEY BLOCK-----"),
                     RMG_VALIDITY_INVALID);
    /* A line missing: the DER length no longer matches the body. */
    assert_int_equal(check("pem", drop_line(RSA_PEM, 3, buf, sizeof buf)),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", drop_line(EC_PEM, 2, buf, sizeof buf)),
                     RMG_VALIDITY_INVALID);
    /* A line too many: 48 bytes past the DER's end is more than padding. */
    assert_int_equal(check("pem", replace_once(RSA_PEM, "5shLd\n", "5shLd\nQUJD" "QUJD"
                                               "QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD"
                                               "QUJDQUJD\n", buf, sizeof buf)),
                     RMG_VALIDITY_INVALID);
    /* A few bytes of trailing padding are tolerated. */
    assert_int_equal(check("pem", replace_once(RSA_PEM, "5shLd\n", "5shLdAAAA\n", buf,
                                               sizeof buf)),
                     RMG_VALIDITY_VALID);
    /* Bodies that decode but are not keys: no SEQUENCE, no openssh magic, no packet tag. */
    assert_int_equal(check("pem", replace_once(RSA_PEM, "MIIBOg", "AIIBOg", buf, sizeof buf)),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", replace_once(OPENSSH_PEM, "b3Bl", "c3Bl", buf, sizeof buf)),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", replace_once(PGP_BLOCK, "lFgE", "AFgE", buf, sizeof buf)),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pem", replace_once(PUTTY_PPK, "AAAAIHJA", "AAAA.HJA", buf,
                                               sizeof buf)),
                     RMG_VALIDITY_INVALID);
    /* Encrypted legacy PEM whose ciphertext is not whole cipher blocks. */
    assert_int_equal(check("pem", replace_once(RSA_ENCRYPTED_PEM, "SarSR0AKYY5I=",
                                               "SarSR0AKYY5IAA==", buf, sizeof buf)),
                     RMG_VALIDITY_INVALID);
}

static void test_pem_unknown(void **state)
{
    (void)state;
    static char buf[8192];
    /* Armours that are not private keys, or that this validator does not parse. */
    assert_int_equal(check("pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
                     RMG_VALIDITY_UNKNOWN);
    assert_int_equal(check("pem", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAA==\n"
                                  "---- END SSH2 ENCRYPTED PRIVATE KEY ----"),
                     RMG_VALIDITY_UNKNOWN);
    assert_int_equal(check("pem", "no armour at all"), RMG_VALIDITY_UNKNOWN);
    /* Cut short (no END line, as at a chunk edge): a good start keeps the finding. */
    const char *end = strstr(RSA_PEM, "-----END");
    assert_int_equal(check_n("pem", RSA_PEM, (size_t)(end - RSA_PEM) - 20),
                     RMG_VALIDITY_UNKNOWN);
    end = strstr(OPENSSH_PEM, "-----END");
    assert_int_equal(check_n("pem", OPENSSH_PEM, (size_t)(end - OPENSSH_PEM) - 30),
                     RMG_VALIDITY_VALID);
    /* A PuTTY file cut before all its private lines. */
    assert_int_equal(check("pem", replace_once(PUTTY_PPK, "Private-Lines: 1", "Private-Lines: 3",
                                               buf, sizeof buf)),
                     RMG_VALIDITY_INVALID);
    const char *mac = strstr(PUTTY_PPK, "Private-Lines: 1\n");
    snprintf(buf, sizeof buf, "%.*sPrivate-Lines: 2\nAAAAIHJA\n", (int)(mac - PUTTY_PPK),
             PUTTY_PPK);
    assert_int_equal(check("pem", buf), RMG_VALIDITY_UNKNOWN);
}

/* ------------------------------------------------------------------------------ jwt */

static void test_jwt(void **state)
{
    (void)state;
    assert_int_equal(check("jwt", JWT), RMG_VALIDITY_VALID);
    /* alg none: empty signature. */
    char none[] = "eyJhbGci|OiJub25l|In0.eyJz|dWIiOiJz|eW50aGV0|aWMiLCJp|YXQiOjE3|MDAwMDAw|MDB9.";
    assert_int_equal(check("jwt", support_join(none)), RMG_VALIDITY_VALID);
    /* JWE: five parts, the header alone is JSON. */
    assert_int_equal(check("jwt", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ."
                                  "TjDqm721_U4Wzet941OC79Gg2pfZLg3fS_v4ysRyUo7F8xkoBSE8mg."
                                  "AAAAAAAAAAAAAAAA.Y2lwaGVy.AAAAAAAAAAAAAAAAAAAAAA"),
                     RMG_VALIDITY_VALID);

    /* Header without "alg", header not JSON, payload not JSON. */
    assert_int_equal(check("jwt", "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJzeW50aGV0aWMiLCJpYXQiOjE3MDA"
                                  "wMDAwMDB9.sd1vO7oE2XC5qPCZ42XoOMN5hbQtYgW-Db54QvFOr9o"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("jwt", "aGVsbG8gd29ybGQ.eyJzdWIiOiJzeW50aGV0aWMiLCJpYXQiOjE3MDAwMDA"
                                  "wMDB9.sd1vO7oE2XC5qPCZ42XoOMN5hbQtYgW-Db54QvFOr9o"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.anVzdCB0ZXh0."
                                  "sd1vO7oE2XC5qPCZ42XoOMN5hbQtYgW-Db54QvFOr9o"),
                     RMG_VALIDITY_INVALID);
    /* Wrong shape: two parts, six parts, empty header or payload, bad characters. */
    assert_int_equal(check("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("jwt", "a.b.c.d.e.f"), RMG_VALIDITY_INVALID);
    assert_int_equal(check("jwt", ".eyJzdWIiOiJ4In0.sig"), RMG_VALIDITY_INVALID);
    assert_int_equal(check("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..sig"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.s+g/"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ....In0.sig"),
                     RMG_VALIDITY_INVALID);
}

/* ----------------------------------------------------------------------- aws_key_id */

static void test_aws_key_id(void **state)
{
    (void)state;
    char valid[][24] = {
        "AKIA2OGY|BAH6STMM|NXNN", "ASIAY34F|ZKBOKMUT|VV7A", "AGPAZ234|5672ABCD|EFGH",
        "AIDAJQAB|LZS4A3QD|U576", "AROAWXYZ|234567AB|CDEF", "ANPAABCD|EFGHIJKL|MNOP",
        "ANVAQRST|UVWXYZ23|4567", "AIPAZYXW|VUTSRQPO|NMLK", "ABIA7777|77772222|2222",
        "ACCAMNBV|CXZLKJHG|FDSA",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        assert_int_equal(check("aws_key_id", support_join(valid[i])), RMG_VALIDITY_VALID);

    const char *const invalid[] = {
        "AKIB2OGYBAH6STMMNXNN",  /* unknown prefix */
        "AKIA2OGYBAH6STMMNXN",   /* 15 after the prefix */
        "AKIA2OGYBAH6STMMNXNNA", /* 17 */
        "AKIA2OGYBAH6STMMNXN0",  /* 0 is not base32 */
        "AKIA2OGYBAH6STMMNXN1", "AKIA2OGYBAH6STMMNXN8", "AKIA2OGYBAH6STMMNXN9",
        "AKIA2ogybah6stmmnxnn", /* lower case */
        "akia2OGYBAH6STMMNXNN", "", "AKIA",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        assert_int_equal(check("aws_key_id", invalid[i]), RMG_VALIDITY_INVALID);
}

/* ----------------------------------------------------------------------- basic_auth */

static void test_basic_auth(void **state)
{
    (void)state;
    /* "synthetic-user:synthetic-pass", "a:b", with the scheme name, a colon in the password */
    assert_int_equal(check("basic_auth", "c3ludGhldGljLXVzZXI6c3ludGhldGljLXBhc3M="),
                     RMG_VALIDITY_VALID);
    assert_int_equal(check("basic_auth", "YTpi"), RMG_VALIDITY_VALID);
    assert_int_equal(check("basic_auth", "Basic YTpi"), RMG_VALIDITY_VALID);
    assert_int_equal(check("basic_auth", "dTpwOnc="), RMG_VALIDITY_VALID);

    assert_int_equal(check("basic_auth", "Om5vdXNlcg=="), RMG_VALIDITY_INVALID); /* ":nouser" */
    assert_int_equal(check("basic_auth", "bm9wYXNzOg=="), RMG_VALIDITY_INVALID); /* "nopass:" */
    assert_int_equal(check("basic_auth", "bm9jb2xvbg=="), RMG_VALIDITY_INVALID); /* "nocolon" */
    assert_int_equal(check("basic_auth", "YmluATphcnk="), RMG_VALIDITY_INVALID); /* "bin\1:ary" */
    assert_int_equal(check("basic_auth", "not base64!"), RMG_VALIDITY_INVALID);
    assert_int_equal(check("basic_auth", ""), RMG_VALIDITY_INVALID);
    assert_int_equal(check("basic_auth", "Og=="), RMG_VALIDITY_INVALID); /* ":" */
}

/* ----------------------------------------------------------------------------- pypi */

static void test_pypi(void **state)
{
    (void)state;
    assert_int_equal(check("pypi", PYPI_TOKEN), RMG_VALIDITY_VALID);
    assert_int_equal(check("pypi", TEST_PYPI_TOKEN), RMG_VALIDITY_VALID);
    /* Cut short by a rule's length bound, at any length: still recognisable. */
    for (size_t n = 30; n < strlen(PYPI_TOKEN); n++)
        assert_int_equal(check_n("pypi", PYPI_TOKEN, n), RMG_VALIDITY_VALID);
    /* The body alone. */
    assert_int_equal(check("pypi", PYPI_TOKEN + 5), RMG_VALIDITY_VALID);

    assert_int_equal(check("pypi", "pypi-L_PtzHPnw6_4XmQ7mV8ch_b2rAPpAum-7Y_wZx4dRn5RnZ73Cg3vZU"
                                   "AX8tY33M9T8EHGlS3p29hh4UpbWZEbsINKxCyEzw"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pypi", "pypi-AgEIcHlwaS5vcm.CJQACAQ9We49FuQQdxpR1jiHLe9S5iZvOaH4dUI3"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pypi", "pypi-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
                     RMG_VALIDITY_INVALID);
    assert_int_equal(check("pypi", "pypi-"), RMG_VALIDITY_INVALID);
}

/* --------------------------------------------------------------------- placeholders */

struct placeholder_case {
    const char *value;
    bool placeholder;
};

static const struct placeholder_case PLACEHOLDER_CASES[] = {
    /* documented example values */
    {"AKIAIOSFODNN7EXAMPLE", true},
    {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true},
    {"sk_test_4eC39HqLyjWDarjtT1zdp7dc", true},
    {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lI"
     "iwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
     true},
    {"my-example-token", true},
    /* stand-ins */
    {"<your-token>", true},
    {"<password>", true},
    {"YOUR_API_KEY_HERE", true},
    {"your-secret-key", true},
    {"yourkeyhere", true},
    {"placeholder", true},
    {"changeme", true},
    {"CHANGE_ME", true},
    {"changeit", true},
    {"REDACTED", true},
    {"dummy-token-123", true},
    {"replace_me", true},
    {"REPLACEME", true},
    {"INSERT_KEY_HERE", true},
    {"TODO", true},
    {"todo: fill in", true},
    /* templates and variable references */
    {"${GITHUB_TOKEN}", true},
    {"${{ secrets.NPM_TOKEN }}", true},
    {"{{ vault_db_password }}", true},
    {"%(db_password)s", true},
    {"$(cat /run/secrets/db)", true},
    {"$DB_PASSWORD", true},
    {"$password", true},
    {"$_token", true},
    {"%APPDATA%", true},
    /* masked and elided */
    {"xxxxxxxx", true},
    {"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true},
    {"XXXX-XXXX", true},
    {"xXxXxX", true},
    {"********", true},
    {"sk_live_...", true},
    {"abc\xe2\x80\xa6", true},
    /* whole values */
    {"password", true},
    {"Passw0rd", true},
    {"secret", true},
    {"TOKEN", true},
    {"test", true},
    {"Testing", true},
    {"foobar", true},
    {"admin", true},
    {"root", true},
    {"null", true},
    {"None", true},
    {"undefined", true},
    {"true", true},
    {"false", true},
    {"example", true},
    {"sample", true},
    {"string", true},
    {"value", true},
    {"\"changeme\"", true},
    {"  password  ", true},
    {"", true},
    /* one character, sequences */
    {"aaaaaaaaaaaaaaaa", true},
    {"0000000000000000000000000000000000000000", true},
    {"ab111111cd", true},
    {"aaab", true},
    {"12345678", true},
    {"abcdefghijklmnop", true},
    {"0123456789abcdef", true},
    {"87654321", true},
    {"sk_live_12345678abcdefgh", true},
    /* key blocks with a stand-in body */
    {"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----", true},
    {"-----BEGIN OPENSSH PRIVATE KEY-----\nxxxx\n-----END OPENSSH PRIVATE KEY-----", true},
    {"-----BEGIN PRIVATE KEY-----\\n<your key>\\n-----END PRIVATE KEY-----", true},
    {"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----", true},

    /* real-looking secrets: random tokens (synthetic), passwords, hashes */
    /* base64 of zero bytes inside a real token (Yandex OAuth): not a filler */
    {"y0_AgAAA|AAAd3JmT|qh4Vb_n2|XkPqL8cW|1sRzE6oY|t9uGiHmB|fN0aQxC5|vKpD7lSj", false},
    {"ghp_7TQU|oGbwsFRK|CzRYOs4M|QvIqsaWL|380yavFU", false},
    {"npm_rdoT|dKV5NPZp|uxC3sPHL|SJTe7yq0|l20z7huO", false},
    {"Qo6RFObq9DsIFFFV3cvhVYn8X4q8SZ9w86KtKseU", false},
    {"8bd7a1e769183af7d6558cc2ccbc958afe31703a6ba23a7da22ca29a1a7ce03e", false},
    {"TzFxMUQZKfzo5K1g9tRVxXqDy9oiYuCF78UuNR78", false},
    {"AKIA2OGY|BAH6STMM|NXNN", false},
    {"3f2b8c1e-9d4a-4e7b-8c2f-1a6d5e9b0c7d", false},
    {"eyJhbGci|OiJIUzI1|NiIsInR5|cCI6IkpX|VCJ9.eyJ|zdWIiOiJ|zeW50aGV|0aWMiLCJ|pYXQiOjE|"
     "3MDAwMDA|wMDB9.sd|1vO7oE2X|C5qPCZ42|XoOMN5hb|QtYgW-Db|54QvFOr9|o",
     false},
    {"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", false},
    {"Tr0ub4dor&3", false},
    {"correct-horse-battery-staple", false},
    {"P@ssw0rd!2024xyz", false},
    {"hunter2", false},
    {"s3cr3t-T0k3n-9f8e7d", false},
    {"$ecret!Pass#2", false},
    /* short common words inside random tokens do not count */
    {"k9Xq2TestPw7Lm4Rz8Vb1Nc6Hd3Jf5Ga0Ys2", false},
    {"Ab3todoZ9qL7mW2xR5tY8uI1oP4", false},
    {"q8W2insertK5mN7bV1cX3zL9", false},
    {"h7Kadmin92LpRootz", false},
    {"Zp4TOKENq8Lm2secretW9", false},
    {"q8W2mN7bV1cX3zL9insert", false},
    {"todoZ9qL7mW2xR5tY8uI1", false},
    {"abcXXXdef1234", false},
    {"Qo6RFObq9DsxXxXV3cvhVYn8X4q8SZ9w86KtKseU", false},
    {"aaaaab1234cdef", false},
    {"abcdefg1", false},
    {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYzKEYq8L2mW", false},
    /* base64 of binary data holds runs of 'A': not a filler in a long value */
    {"MIIBOgIBAAJBAJ3q7vgFAAAAAAAAAAAAod987a8ssXBCarSR0I/LOqypMQrCzXQWKQJ8a40LYyMKoSalKzIMz"
     "ZhQVpCq9a7el1Ku1sYgCTb1EcCAwEAAQ",
     false},
};

static void test_placeholder_table(void **state)
{
    (void)state;
    size_t yes = 0, no = 0;
    for (size_t i = 0; i < sizeof PLACEHOLDER_CASES / sizeof PLACEHOLDER_CASES[0]; i++) {
        const struct placeholder_case *c = &PLACEHOLDER_CASES[i];
        char value[256];
        support_joined(value, sizeof value, c->value);
        bool got = rmg_validate_is_placeholder(value, strlen(value));
        if (got != c->placeholder)
            fail_msg("rmg_validate_is_placeholder(\"%s\") = %d, want %d", value, got,
                     c->placeholder);
        if (c->placeholder)
            yes++;
        else
            no++;
    }
    assert_true(yes >= 20);
    assert_true(no >= 20);
}

static void test_placeholder_keys(void **state)
{
    (void)state;
    /* Real key blocks hold runs of 'A' and chance words in their base64: never stand-ins. */
    const char *const keys[] = {RSA_PEM, EC_PEM, PKCS8_PEM, RSA_ENCRYPTED_PEM,
                                OPENSSH_PEM, PGP_BLOCK, PUTTY_PPK};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_false(rmg_validate_is_placeholder(keys[i], strlen(keys[i])));
}

static void test_placeholder_not_nul_terminated(void **state)
{
    (void)state;
    /* The secret is a slice of a larger buffer: only len bytes count. */
    const char buf[] = "passwordQo6RFObq9DsI";
    assert_true(rmg_validate_is_placeholder(buf, 8));
    assert_false(rmg_validate_is_placeholder(buf + 8, 12));
    assert_true(rmg_validate_is_placeholder(NULL, 0));
}

/* xorshift64*: a fixed sequence, so the test below gives the same answer on every run. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void test_placeholder_random_tokens(void **state)
{
    (void)state;
    static const char base62[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char hex[] = "0123456789abcdef";
    const struct {
        const char *alphabet;
        size_t size, len;
        size_t max_flagged; /* per 20,000 */
    } sets[] = {
        {base62, 62, 36, 0},
        {base62, 62, 20, 0},
        {b64, 64, 40, 0},
        {hex, 16, 40, 4},
        {hex, 16, 64, 6},
    };
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    char token[64];
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        size_t flagged = 0;
        for (int t = 0; t < 20000; t++) {
            for (size_t i = 0; i < sets[k].len; i++)
                token[i] = sets[k].alphabet[next_random(&seed) % sets[k].size];
            if (rmg_validate_is_placeholder(token, sets[k].len))
                flagged++;
        }
        if (flagged > sets[k].max_flagged)
            fail_msg("%zu of 20000 random tokens (len %zu, alphabet %zu) taken for "
                     "placeholders",
                     flagged, sets[k].len, sets[k].size);
    }
}

int main(void)
{
    char *const fixtures[] = {RSA_PEM,     EC_PEM,    PKCS8_PEM, RSA_ENCRYPTED_PEM,
                              OPENSSH_PEM, PGP_BLOCK, PUTTY_PPK, GITHUB_PREFIX_CRC,
                              JWT,         PYPI_TOKEN, TEST_PYPI_TOKEN};
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
        support_join(fixtures[i]);
    for (size_t i = 0; i < sizeof GITHUB_TOKENS / sizeof GITHUB_TOKENS[0]; i++)
        support_join(GITHUB_TOKENS[i]);
    for (size_t i = 0; i < sizeof NPM_TOKENS / sizeof NPM_TOKENS[0]; i++)
        support_join(NPM_TOKENS[i]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_names),
        cmocka_unit_test(test_base64_decode),
        cmocka_unit_test(test_crc32_base62),
        cmocka_unit_test(test_github_valid),
        cmocka_unit_test(test_github_invalid),
        cmocka_unit_test(test_npm),
        cmocka_unit_test(test_pem_valid),
        cmocka_unit_test(test_pem_encodings),
        cmocka_unit_test(test_pem_invalid),
        cmocka_unit_test(test_pem_unknown),
        cmocka_unit_test(test_jwt),
        cmocka_unit_test(test_aws_key_id),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_pypi),
        cmocka_unit_test(test_placeholder_table),
        cmocka_unit_test(test_placeholder_keys),
        cmocka_unit_test(test_placeholder_not_nul_terminated),
        cmocka_unit_test(test_placeholder_random_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
