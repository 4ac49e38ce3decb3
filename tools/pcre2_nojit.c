/* pcre2_nojit.c: preloaded into rummage by tools/valgrind-rummage so that PCRE2 never
 * JIT-compiles a rule and matches with its interpreter instead (same matches). Valgrind cannot
 * follow JIT code: it reports the bytes the JIT reads past a subject's end, and its own stack
 * slots, as uninitialised values, with a stack of unnamed frames that no suppression could
 * single out. Built by `make valgrind`. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

int pcre2_jit_compile_8(pcre2_code_8 *code, uint32_t options)
{
    (void)code;
    (void)options;
    return PCRE2_ERROR_JIT_BADOPTION;
}
