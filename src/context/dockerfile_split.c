/* dockerfile_split.c: an instruction's text split as BuildKit splits it (see
 * dockerfile_split.h): splitCommand and extractBuilderFlags of split_command.go, and the
 * argument parsers of line_parsers.go (reWhitespace words, parseWords, parseJSON,
 * parseMaybeJSON). Nothing is expanded here. */
#define _POSIX_C_SOURCE 200809L
#include "context/dockerfile_split.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context/dockerfile_text.h"
#include "common/util.h"

static void extract_flags(struct rmg_df_parser *p, const char *s, size_t n, struct rmg_df_split *sc)
{
    enum { SPACES, WORD, QUOTE } phase = SPACES;
    struct rmg_buf word = {0};
    char quote = 0;
    bool blank_ok = false;
    sc->args = s + n;
    sc->args_len = 0;
    for (size_t pos = 0; pos <= n; pos++) {
        char ch = pos < n ? s[pos] : 0;
        if (phase == SPACES) {
            if (pos == n)
                break;
            if (rmg_df_is_byte_space((unsigned char)ch))
                continue;
            if (ch != '-' || pos + 1 == n || s[pos + 1] != '-' || !rmg_df_count_word(p)) {
                sc->args = s + pos;
                sc->args_len = n - pos;
                break;
            }
            phase = WORD;
        }
        if (pos == n) {
            if (!(word.len == 2 && memcmp(word.data, "--", 2) == 0) && (blank_ok || word.len))
                if (!rmg_df_strv_push(&sc->flags, word.data ? word.data : "", word.len))
                    p->oom = true;
            break;
        }
        if (phase == WORD) {
            if (rmg_df_is_byte_space((unsigned char)ch)) {
                phase = SPACES;
                if (word.len == 2 && memcmp(word.data, "--", 2) == 0) {
                    sc->args = s + pos;
                    sc->args_len = n - pos;
                    break;
                }
                if ((blank_ok || word.len) &&
                    !rmg_df_strv_push(&sc->flags, word.data ? word.data : "", word.len))
                    p->oom = true;
                word.len = 0;
                blank_ok = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blank_ok = true;
                phase = QUOTE;
                continue;
            }
            if (ch == '\\') {
                if (pos + 1 == n)
                    continue;
                ch = s[++pos];
            }
            if (!rmg_buf_append(&word, &ch, 1))
                p->oom = true;
            continue;
        }
        if (ch == quote) {
            phase = WORD;
            continue;
        }
        if (ch == '\\') {
            if (pos + 1 == n) {
                phase = WORD;
                continue;
            }
            ch = s[++pos];
        }
        if (!rmg_buf_append(&word, &ch, 1))
            p->oom = true;
    }
    rmg_buf_free(&word);
}

void rmg_df_split_command(struct rmg_df_parser *p, const char *line, size_t n,
                          struct rmg_df_split *sc)
{
    *sc = (struct rmg_df_split){0};
    rmg_df_trim_space(&line, &n);
    size_t i = 0;
    while (i < n && !rmg_df_is_ws(line[i]))
        i++;
    sc->name = line;
    sc->name_len = i;
    sc->args = line + n;
    if (i < n) {
        while (i < n && rmg_df_is_ws(line[i]))
            i++;
        extract_flags(p, line + i, n - i, sc);
    }
    rmg_df_trim_space(&sc->args, &sc->args_len);
}

void rmg_df_ws_split(struct rmg_df_parser *p, const char *s, size_t n, struct rmg_df_strv *out)
{
    size_t i = 0;
    while (i < n && !p->oom && rmg_df_count_word(p)) {
        size_t j = i;
        while (j < n && !rmg_df_is_ws(s[j]))
            j++;
        if (!rmg_df_strv_push(out, s + i, j - i))
            p->oom = true;
        while (j < n && rmg_df_is_ws(s[j]))
            j++;
        i = j;
    }
}

void rmg_df_parse_words(struct rmg_df_parser *p, const char *s, size_t n, struct rmg_df_strv *out)
{
    enum { SPACES, WORD, QUOTE } phase = SPACES;
    struct rmg_buf word = {0};
    char quote = 0;
    bool blank_ok = false;
    uint32_t ch = 0;
    size_t w = 0;
    for (size_t pos = 0; pos <= n && !p->oom && !p->too_many_words; pos += w) {
        if (pos != n)
            ch = rmg_df_decode(s + pos, n - pos, &w);
        if (phase == SPACES) {
            if (pos == n)
                break;
            if (rmg_df_is_uspace(ch))
                continue;
            phase = WORD;
            if (!rmg_df_count_word(p))
                break;
        }
        if (pos == n) {
            if ((blank_ok || word.len) &&
                !rmg_df_strv_push(out, word.data ? word.data : "", word.len))
                p->oom = true;
            break;
        }
        if (phase == WORD) {
            if (rmg_df_is_uspace(ch)) {
                phase = SPACES;
                if ((blank_ok || word.len) &&
                    !rmg_df_strv_push(out, word.data ? word.data : "", word.len))
                    p->oom = true;
                word.len = 0;
                blank_ok = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = (char)ch;
                blank_ok = true;
                phase = QUOTE;
            }
            if (ch == (unsigned char)p->escape) {
                if (pos + w == n)
                    continue; /* an escape at the end is dropped */
                if (!rmg_buf_append(&word, s + pos, w))
                    p->oom = true;
                pos += w;
                ch = rmg_df_decode(s + pos, n - pos, &w);
            }
            if (!rmg_buf_append(&word, s + pos, w))
                p->oom = true;
            continue;
        }
        if (ch == (unsigned char)quote)
            phase = WORD;
        if (ch == (unsigned char)p->escape && quote != '\'') {
            if (pos + w == n) {
                phase = WORD;
                continue;
            }
            if (!rmg_buf_append(&word, s + pos, w))
                p->oom = true;
            pos += w;
            ch = rmg_df_decode(s + pos, n - pos, &w);
        }
        if (!rmg_buf_append(&word, s + pos, w))
            p->oom = true;
    }
    rmg_buf_free(&word);
}

int rmg_df_parse_json(struct rmg_df_parser *p, const char *s, size_t n, struct rmg_df_strv *out)
{
    rmg_df_trim_left(&s, &n);
    if (n == 0 || s[0] != '[')
        return 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (c < 0x20)
                return 0;
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return 0;
        }
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!j)
        return 0;
    int r = 1;
    for (const char *e = end; e && e < s + n; e++)
        if (*e != ' ' && *e != '\t' && *e != '\n' && *e != '\r')
            r = 0;
    if (!end || !cJSON_IsArray(j))
        r = 0;
    for (cJSON *it = r == 1 ? j->child : NULL; it; it = it->next)
        if (!cJSON_IsString(it))
            r = -1;
    for (cJSON *it = r == 1 ? j->child : NULL; it && !p->oom && rmg_df_count_word(p); it = it->next)
        if (!rmg_df_strv_push(out, it->valuestring, strlen(it->valuestring)))
            p->oom = true;
    cJSON_Delete(j);
    return r;
}

bool rmg_df_parse_args(struct rmg_df_parser *p, unsigned line, const char *kw, const char *s,
                       size_t n, bool to_list, struct rmg_df_strv *out)
{
    int j = rmg_df_parse_json(p, s, n, out);
    if (j == 1)
        return true;
    rmg_df_strv_clear(out);
    if (j < 0)
        rmg_df_warn(p, line, "%.*s: when using JSON array syntax, arrays must be comprised of "
                             "strings only (read as shell form)", rmg_df_clipn(strlen(kw)), kw);
    else if (n >= 2 && s[0] == '[' && (s[1] == '"' || s[1] == '\''))
        rmg_df_warn(p, line, "%.*s: arguments start with '[' but are not a JSON array of strings: "
                             "read as shell form", rmg_df_clipn(strlen(kw)), kw);
    if (to_list)
        rmg_df_ws_split(p, s, n, out);
    else if (n && !rmg_df_strv_push(out, s, n))
        p->oom = true;
    return false;
}
