/* test_entropy.c: unit tests of the Shannon entropy of candidate tokens. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/entropy.h"

#define EPS 1e-9

static double H(const char *s)
{
    return rmg_entropy_shannon(s, strlen(s));
}

static void test_exact_values(void **state)
{
    (void)state;
    assert_float_equal(H("aaaa"), 0.0, EPS);
    assert_float_equal(H("a"), 0.0, EPS);
    assert_float_equal(H("ab"), 1.0, EPS);
    assert_float_equal(H("aabb"), 1.0, EPS);
    assert_float_equal(H("abcd"), 2.0, EPS);
    assert_float_equal(H("abcdefgh"), 3.0, EPS);
    assert_float_equal(H("0123456789abcdef"), 4.0, EPS);
    assert_float_equal(H("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"), 5.0, EPS);
    /* 3/4, 1/4: -(0.75 log2 0.75 + 0.25 log2 0.25) */
    assert_float_equal(H("aaab"), 0.8112781244591328, EPS);
    /* 2/3, 1/3 */
    assert_float_equal(H("aab"), 0.9182958340544896, EPS);
}

static void test_empty(void **state)
{
    (void)state;
    assert_float_equal(rmg_entropy_shannon("", 0), 0.0, EPS);
    assert_float_equal(rmg_entropy_shannon(NULL, 0), 0.0, EPS);
    /* Only n bytes count, and they need not be NUL-terminated. */
    assert_float_equal(rmg_entropy_shannon("abcdzzzz", 4), 2.0, EPS);
}

static void test_all_bytes(void **state)
{
    (void)state;
    /* Every byte value once, NUL and high bytes included: 8 bits, the maximum. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    assert_float_equal(rmg_entropy_shannon(all, sizeof all), 8.0, EPS);
    /* Order does not matter, only the counts. */
    assert_float_equal(H("abab"), H("aabb"), EPS);
    assert_float_equal(H("dcba"), H("abcd"), EPS);
}

static void test_bounds(void **state)
{
    (void)state;
    /* Never above log2(n) nor log2(alphabet), never negative, and more varied is higher. */
    const char *hex = "8bd7a1e769183af7d6558cc2ccbc958afe31703a6ba23a7da22ca29a1a7ce03e";
    double h = H(hex);
    assert_true(h > 3.5 && h <= 4.0);
    const char *b62 = "Qo6RFObq9DsIFFFV3cvhVYn8X4q8SZ9w86KtKseU";
    double g = H(b62);
    assert_true(g > 4.5 && g <= 5.322); /* log2(40) = 5.3219 */
    assert_true(H("password") < H("Qo6RFObq"));
    assert_true(H("aaaaaaab") >= 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_values),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_all_bytes),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
