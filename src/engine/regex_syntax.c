/* regex_syntax.c: the reader of PCRE2 syntax the keyword analyses share: escapes, classes,
 * groups and quantifiers, item by item, giving up (RMG_RX_BAD) on what it does not follow. */
#include "engine/regex_syntax.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

static struct rmg_rx_atom rmg_rx_bad(void)
{
    struct rmg_rx_atom a;
    memset(&a, 0, sizeof a);
    return a;
}

static int rmg_rx_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void rmg_rx_set_add(struct rmg_rx_atom *a, unsigned c)
{
    c = (unsigned)tolower((int)c);
    if (a->n_set > RMG_RX_MAX_SET)
        return; /* too many to follow already */
    for (unsigned k = 0; k < a->n_set; k++)
        if (a->set[k] == c)
            return;
    if (a->n_set < RMG_RX_MAX_SET)
        a->set[a->n_set] = (unsigned char)c;
    a->n_set++; /* past RMG_RX_MAX_SET: too many to follow */
}

size_t rmg_rx_escape_byte(const char *re, size_t n, size_t i, unsigned *byte)
{
    if (i + 1 >= n)
        return 0;
    char e = re[i + 1];
    if (e == 'x') {
        unsigned v = 0;
        size_t j = i + 2;
        if (j < n && re[j] == '{') {
            for (j++; j < n && rmg_rx_hex(re[j]) >= 0 && v < 256; j++)
                v = v * 16 + (unsigned)rmg_rx_hex(re[j]);
            if (j >= n || re[j] != '}' || v > 255)
                return 0;
            j++;
        } else {
            for (; j < n && j < i + 4 && rmg_rx_hex(re[j]) >= 0; j++)
                v = v * 16 + (unsigned)rmg_rx_hex(re[j]);
        }
        *byte = v;
        return j;
    }
    static const char named[] = "tnrfea";
    static const unsigned char value[] = {'\t', '\n', '\r', '\f', 27, 7};
    const char *at = e ? strchr(named, e) : NULL;
    if (at) {
        *byte = value[at - named];
        return i + 2;
    }
    if (!isalnum((unsigned char)e) && (unsigned char)e < 0x80) {
        *byte = (unsigned char)e; /* an escaped punctuation character */
        return i + 2;
    }
    return 0;
}

/* Skips a backreference or subroutine call at re[i] == '\\' (\1, \k<name>, \g{-1}...).
 * Returns the index past it, or 0. */
static size_t rmg_rx_backref(const char *re, size_t n, size_t i)
{
    size_t j = i + 2;
    if (i + 1 >= n)
        return 0;
    char e = re[i + 1];
    if (e >= '1' && e <= '9') {
        while (j < n && isdigit((unsigned char)re[j]))
            j++;
        return j;
    }
    if (e != 'k' && e != 'g')
        return 0;
    if (j >= n)
        return 0;
    char open = re[j], close = open == '<' ? '>' : open == '{' ? '}' : open == '\'' ? '\'' : 0;
    if (!close) {
        if (e != 'g')
            return 0;
        if (re[j] == '-' || re[j] == '+')
            j++;
        size_t d = j;
        while (j < n && isdigit((unsigned char)re[j]))
            j++;
        return j > d ? j : 0;
    }
    const char *c = (const char *)memchr(re + j + 1, close, n - j - 1);
    return c ? (size_t)(c - re) + 1 : 0;
}

/* Parses the class at re[i] == '['. A small set of bytes (no negation, no named class) comes
 * back as RMG_RX_CHARS, any other valid class as RMG_RX_OTHER. */
static struct rmg_rx_atom rmg_rx_class(const char *re, size_t n, size_t i)
{
    struct rmg_rx_atom a = rmg_rx_bad();
    size_t j = i + 1;
    bool known = true;
    if (j < n && re[j] == '^') {
        known = false;
        j++;
    }
    bool first = true;
    int prev = -1; /* the last single byte, for a range */
    while (j < n && (re[j] != ']' || first)) {
        first = false;
        unsigned c;
        size_t next;
        if (re[j] == '[' && j + 1 < n && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
            char t = re[j + 1];
            size_t k = j + 2;
            while (k + 1 < n && !(re[k] == t && re[k + 1] == ']'))
                k++;
            if (k + 1 >= n)
                return rmg_rx_bad();
            known = false;
            prev = -1;
            j = k + 2;
            continue;
        }
        if (re[j] == '\\') {
            if (j + 1 < n && (re[j + 1] == 'Q' || re[j + 1] == 'E'))
                return rmg_rx_bad();
            next = rmg_rx_escape_byte(re, n, j, &c);
            if (!next) { /* \d, \s, \w, \p{..}...: some set */
                known = false;
                prev = -1;
                if (j + 2 < n && (re[j + 1] == 'p' || re[j + 1] == 'P') && re[j + 2] == '{') {
                    const char *close = (const char *)memchr(re + j + 2, '}', n - j - 2);
                    if (!close)
                        return rmg_rx_bad();
                    j = (size_t)(close - re) + 1;
                } else {
                    j += 2;
                }
                continue;
            }
        } else {
            c = (unsigned char)re[j];
            next = j + 1;
        }
        if (c == '-' && prev >= 0 && next < n && re[next] != ']' && re[j] == '-') {
            /* a range prev-hi */
            unsigned hi;
            size_t after;
            if (re[next] == '\\') {
                after = rmg_rx_escape_byte(re, n, next, &hi);
                if (!after)
                    return rmg_rx_bad();
            } else if (re[next] == '[') {
                return rmg_rx_bad();
            } else {
                hi = (unsigned char)re[next];
                after = next + 1;
            }
            if (hi < (unsigned)prev)
                return rmg_rx_bad();
            for (unsigned v = (unsigned)prev + 1; v <= hi && a.n_set <= RMG_RX_MAX_SET; v++) {
                rmg_rx_set_add(&a, v);
                if (isalpha((int)v))
                    rmg_rx_set_add(&a, (unsigned)(islower((int)v) ? toupper((int)v) : tolower((int)v)));
            }
            if (hi - (unsigned)prev > RMG_RX_MAX_SET)
                a.n_set = RMG_RX_MAX_SET + 1;
            prev = -1;
            j = after;
            continue;
        }
        rmg_rx_set_add(&a, c);
        prev = (int)c;
        j = next;
    }
    if (j >= n)
        return rmg_rx_bad();
    a.end = j + 1;
    a.kind = known && a.n_set >= 1 && a.n_set <= RMG_RX_MAX_SET ? RMG_RX_CHARS : RMG_RX_OTHER;
    return a;
}

static size_t rmg_rx_group_end(const char *re, size_t n, size_t i, int depth);

/* Reads the quantifier (if any) after the atom ending at a->end. */
static void rmg_rx_quantifier(const char *re, size_t n, struct rmg_rx_atom *a)
{
    a->qend = a->end;
    a->qmin = 1;
    a->qmax1 = true;
    a->qmax = 1;
    if (a->end >= n)
        return;
    size_t j = a->end;
    char q = re[j];
    if (q == '*' || q == '+' || q == '?') {
        a->qmin = q == '+';
        a->qmax1 = q == '?';
        a->qmax = q == '?' ? 1 : ULONG_MAX;
        j++;
    } else if (q == '{' && j + 1 < n && isdigit((unsigned char)re[j + 1])) {
        unsigned long m = 0, mx = 0;
        size_t k = j + 1;
        while (k < n && isdigit((unsigned char)re[k]) && m < 1000000)
            m = m * 10 + (unsigned long)(re[k++] - '0');
        bool bounded = true;
        mx = m;
        if (k < n && re[k] == ',') {
            k++;
            if (k < n && isdigit((unsigned char)re[k])) {
                mx = 0;
                while (k < n && isdigit((unsigned char)re[k]) && mx < 1000000)
                    mx = mx * 10 + (unsigned long)(re[k++] - '0');
            } else {
                bounded = false;
            }
        }
        if (k >= n || re[k] != '}')
            return; /* not a quantifier: PCRE2 takes the brace literally */
        a->qmin = m;
        a->qmax1 = bounded && mx <= 1;
        a->qmax = bounded ? mx : ULONG_MAX;
        j = k + 1;
    } else {
        return;
    }
    if (j < n && (re[j] == '?' || re[j] == '+'))
        j++;
    a->qend = j;
}

struct rmg_rx_atom rmg_rx_atom_at(const char *re, size_t n, size_t i, int depth)
{
    struct rmg_rx_atom a = rmg_rx_bad();
    char c = re[i];
    if (depth > 64)
        return a;
    if (c == '\\') {
        unsigned byte;
        size_t next = rmg_rx_escape_byte(re, n, i, &byte);
        if (next) {
            a.kind = RMG_RX_CHARS;
            rmg_rx_set_add(&a, byte);
            a.end = next;
        } else if (i + 1 < n && re[i + 1] && strchr("bBAzZG", re[i + 1])) {
            a.kind = RMG_RX_ZERO;
            a.end = i + 2;
        } else if (i + 1 < n && re[i + 1] == 'N' && i + 2 < n && re[i + 2] == '{') {
            return rmg_rx_bad();
        } else if (i + 1 < n && re[i + 1] && strchr("dDsSwWhHvVNRXC", re[i + 1])) {
            a.kind = RMG_RX_OTHER;
            a.end = i + 2;
        } else if (i + 2 < n && (re[i + 1] == 'p' || re[i + 1] == 'P')) {
            a.kind = RMG_RX_OTHER;
            a.end = i + 3;
            if (re[i + 2] == '{') {
                const char *close = (const char *)memchr(re + i + 2, '}', n - i - 2);
                if (!close)
                    return rmg_rx_bad();
                a.end = (size_t)(close - re) + 1;
            }
        } else if ((next = rmg_rx_backref(re, n, i)) != 0) {
            a.kind = RMG_RX_OTHER;
            a.end = next;
        } else {
            return rmg_rx_bad(); /* \Q..\E, \K, \c, \o{}, octal... */
        }
    } else if (c == '[') {
        a = rmg_rx_class(re, n, i);
        if (a.kind == RMG_RX_BAD)
            return a;
    } else if (c == '(') {
        size_t j = i + 1;
        if (j < n && re[j] == '*')
            return a; /* verbs and start-of-pattern options */
        a.kind = RMG_RX_GROUP;
        if (j < n && re[j] == '?') {
            j++;
            if (j >= n)
                return rmg_rx_bad();
            char g = re[j];
            if (g == '#') { /* a comment */
                const char *close = (const char *)memchr(re + j, ')', n - j);
                if (!close)
                    return rmg_rx_bad();
                a.kind = RMG_RX_ZERO;
                a.end = (size_t)(close - re) + 1;
                rmg_rx_quantifier(re, n, &a);
                return a;
            }
            if (g == ':' || g == '>' || g == '|') {
                j++;
            } else if (g == '=' || g == '!') {
                a.kind = RMG_RX_ZERO;
                j++;
            } else if (g == '<' && j + 1 < n && (re[j + 1] == '=' || re[j + 1] == '!')) {
                a.kind = RMG_RX_ZERO;
                j += 2;
            } else if (g == '<' || g == '\'' || (g == 'P' && j + 1 < n && re[j + 1] == '<')) {
                char close = g == '\'' ? '\'' : '>';
                j += g == 'P' ? 2 : 1;
                while (j < n && (isalnum((unsigned char)re[j]) || re[j] == '_'))
                    j++;
                if (j >= n || re[j] != close)
                    return rmg_rx_bad();
                j++;
            } else if (g == '(') {
                /* a conditional: the condition is its own group; the branches are text
                 * the analysis does not follow */
                struct rmg_rx_atom cond = rmg_rx_atom_at(re, n, j, depth + 1);
                if (cond.kind == RMG_RX_BAD || cond.qend != cond.end)
                    return rmg_rx_bad();
                a.kind = RMG_RX_OTHER;
                j = cond.end;
            } else {
                /* option letters: (?i) sets them, (?i: opens a group with them; (?x), (?n)
                 * and the rest ((?R), (?1), (?C), (?&name), (?P=name)...) are not followed */
                while (j < n && re[j] && strchr("imsJU-^", re[j]))
                    j++;
                if (j >= n)
                    return rmg_rx_bad();
                if (re[j] == ')') {
                    a.kind = RMG_RX_ZERO;
                    a.end = j + 1;
                    a.qend = a.end; /* an option setting takes no quantifier */
                    a.qmin = 1;
                    a.qmax1 = true;
                    a.qmax = 1;
                    return a;
                }
                if (re[j] != ':')
                    return rmg_rx_bad();
                j++;
            }
        }
        a.body = j;
        a.body_end = rmg_rx_group_end(re, n, j, depth + 1);
        if (a.body_end == 0)
            return rmg_rx_bad();
        a.end = a.body_end + 1;
    } else if (c == '.') {
        a.kind = RMG_RX_OTHER;
        a.end = i + 1;
    } else if (c == '^' || c == '$') {
        a.kind = RMG_RX_ZERO;
        a.end = i + 1;
    } else if (c == '*' || c == '+' || c == '?' || c == ')' || c == '|') {
        return a; /* nothing to repeat, or a stray parenthesis */
    } else {
        a.kind = RMG_RX_CHARS; /* including a brace that does not start a quantifier */
        rmg_rx_set_add(&a, (unsigned char)c);
        a.end = i + 1;
    }
    rmg_rx_quantifier(re, n, &a);
    return a;
}

/* The index of the ')' closing a group whose body starts at i, or 0. */
static size_t rmg_rx_group_end(const char *re, size_t n, size_t i, int depth)
{
    while (i < n && re[i] != ')') {
        if (re[i] == '|') {
            i++;
            continue;
        }
        struct rmg_rx_atom a = rmg_rx_atom_at(re, n, i, depth);
        if (a.kind == RMG_RX_BAD)
            return 0;
        i = a.qend;
    }
    return i < n ? i : 0;
}
