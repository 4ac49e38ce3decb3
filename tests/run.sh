#!/bin/bash
# Test driver: unit tests (cmocka, TAP output), rule examples (both engines), CLI tests, image
# tests (real images built at test time, tests/images/fixtures.py), build-context tests, report
# formats (SARIF and GitLab validated against their schemas), ecosystem (man page, completion,
# Docker CLI plugin, hooks), registries (docker-registry on 127.0.0.1), hostile input (bombs,
# damaged and malicious images, escapes, special files: tests/hostile/). Not in the default
# list: clean (the default gate on real Debian-package images, tests/clean/; the images are
# built first by tests/images/clean_images.sh: `make test-clean-images` does both).
# Source layout (tests/layout.py: stages, include circles, file length); provenance (origins on
# real dpkg, RECORD and npm databases: tests/cli/test_provenance.py).
# Usage: tests/run.sh [layout|unit|rules|cli|images|provenance|context|sarif|formats|ecosystem|registry|hostile|clean]...   (default: all but clean). Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export RUMMAGE="$PWD/$BUILD/rummage"
parts=${*:-layout unit rules cli images provenance context sarif formats ecosystem registry hostile}
passed=0
failed=0
failures=()

count_tap() { # name, file with TAP output
    local p f
    p=$(grep -cE '^ok ' "$2")
    f=$(grep -cE '^not ok ' "$2")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failures+=("$1")
        grep -E '^not ok|^#' "$2" | head -40
    fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The layer cache is on by default: the tests get a fresh one (and never touch ~/.cache).
export XDG_CACHE_HOME="$tmp/cache"

for part in $parts; do
    case $part in
    unit)
        for t in "$BUILD"/tests/test_*; do
            [ -x "$t" ] || continue
            name=$(basename "$t")
            echo "== unit: $name"
            CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$tmp/$name.out" 2>&1
            rc=$?
            count_tap "$name" "$tmp/$name.out"
            if [ $rc -ne 0 ] && ! grep -q '^not ok' "$tmp/$name.out"; then
                echo "$name exited $rc without a failing test (crash?):"; tail -20 "$tmp/$name.out"
                failed=$((failed + 1)); failures+=("$name (exit $rc)")
            fi
        done
        ;;
    rules)
        for engine in vectorscan pcre2; do
            echo "== rules check --engine $engine"
            "$RUMMAGE" rules check --engine "$engine" >"$tmp/rules.out" 2>&1
            rc=$?
            grep '^FAIL' "$tmp/rules.out" | head -40
            line=$(grep '^rules check:' "$tmp/rules.out")
            echo "$line"
            p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
            f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
            if [ -z "$p" ]; then
                cat "$tmp/rules.out"; failed=$((failed + 1)); failures+=("rules check $engine (no summary)")
                continue
            fi
            passed=$((passed + p)); failed=$((failed + f))
            if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then failures+=("rules check $engine"); fi
        done
        ;;
    cli)
        echo "== cli"
        python3 tests/cli/test_cli.py >"$tmp/cli.out" 2>&1
        count_tap cli "$tmp/cli.out"
        if ! grep -qE '^(ok|not ok) ' "$tmp/cli.out"; then
            cat "$tmp/cli.out"; failed=$((failed + 1)); failures+=("cli (no tests ran)")
        fi
        ;;
    layout)
        echo "== layout"
        python3 tests/layout.py >"$tmp/layout.out" 2>&1
        count_tap layout "$tmp/layout.out"
        ;;
    images | provenance | context | sarif | formats | ecosystem | registry)
        echo "== $part"
        python3 "tests/cli/test_$part.py" >"$tmp/$part.out" 2>&1
        count_tap "$part" "$tmp/$part.out"
        if ! grep -qE '^(ok|not ok) ' "$tmp/$part.out"; then
            cat "$tmp/$part.out"; failed=$((failed + 1)); failures+=("$part (no tests ran)")
        fi
        ;;
    hostile)
        echo "== hostile"
        python3 tests/hostile/test_hostile.py >"$tmp/hostile.out" 2>&1
        count_tap hostile "$tmp/hostile.out"
        if ! grep -qE '^(ok|not ok) ' "$tmp/hostile.out"; then
            cat "$tmp/hostile.out"; failed=$((failed + 1)); failures+=("hostile (no tests ran)")
        fi
        ;;
    clean)
        echo "== clean (images in ${RUMMAGE_CLEAN_IMAGES:-$BUILD/clean-images})"
        python3 tests/clean/test_clean_images.py >"$tmp/clean.out" 2>&1
        count_tap clean "$tmp/clean.out"
        # every test's result and the measured table, failed or not; the whole TAP output kept
        cp "$tmp/clean.out" "$BUILD/clean-images.tap"
        grep -E '^(ok|not ok) ' "$tmp/clean.out"
        sed -n '/^# clean images:/,$p' "$tmp/clean.out"
        echo "(the whole output: $BUILD/clean-images.tap)"
        if ! grep -qE '^(ok|not ok) ' "$tmp/clean.out"; then
            cat "$tmp/clean.out"; failed=$((failed + 1)); failures+=("clean (no tests ran)")
        fi
        ;;
    *) echo "unknown part: $part"; exit 2 ;;
    esac
done

if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
