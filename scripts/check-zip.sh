#!/usr/bin/env bash
# Checks Lambda deployment zips for the provided.al2023 runtime on x86_64:
#   - exactly one entry, named `bootstrap`;
#   - a regular file, executable and world-readable (Lambda runs it as another user);
#   - an x86-64 ELF executable;
#   - no glibc symbol version newer than the runtime's glibc (2.34 on provided.al2023).
#
# usage: scripts/check-zip.sh [--self-test] [ZIP...]
#   --self-test  first proves that each check rejects what it should (built fixtures)
# Exits non-zero, with one line per problem on stderr, if any check fails.
# SENTINEL_MAX_GLIBC overrides the glibc ceiling (default 2.34).
set -euo pipefail

max_glibc="${SENTINEL_MAX_GLIBC:-2.34}"

fail() {
    echo "check-zip: $*" >&2
}

# Reads `readelf --version-info` output on stdin and prints every required GLIBC version
# newer than $1, one per line. GLIBC_PRIVATE counts as too new: no runtime promises it.
glibc_too_new() {
    local max="$1"
    grep -o 'Name: GLIBC_[A-Z0-9.]*' | sed 's/^Name: GLIBC_//' | sort -u |
        awk -v max="$max" '
            BEGIN { split(max, m, "."); max_major = m[1] + 0; max_minor = m[2] + 0 }
            $0 == "PRIVATE" { print "GLIBC_PRIVATE"; next }
            {
                split($0, v, ".")
                # numeric, so that 2.3.4 < 2.34 < 2.35
                if (v[1] + 0 > max_major || (v[1] + 0 == max_major && v[2] + 0 > max_minor))
                    print "GLIBC_" $0
            }'
}

# Checks one zip; prints why and returns 1 if it is not a valid Lambda bootstrap zip.
check_zip() {
    local zip="$1"
    if [ ! -f "$zip" ]; then
        fail "$zip: no such file"
        return 1
    fi

    local entries
    if ! entries="$(unzip -Z1 "$zip" 2>/dev/null)"; then
        fail "$zip: not a readable zip archive"
        return 1
    fi
    if [ "$entries" != "bootstrap" ]; then
        fail "$zip: expected exactly one entry \`bootstrap\`, found: $(printf '%s' "$entries" | tr '\n' ' ')"
        return 1
    fi

    local mode
    mode="$(unzip -Zs "$zip" bootstrap | awk '{ print $1 }')"
    # -rwxr-xr-x: a regular file (not a link), owner may execute, others may read and execute.
    if [[ ! "$mode" =~ ^-..x...r.x$ ]]; then
        fail "$zip: \`bootstrap\` is not an executable regular file readable by all (mode \`$mode\`, want -rwxr-xr-x)"
        return 1
    fi

    local dir
    dir="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now: $dir is local
    trap "rm -rf '$dir'" RETURN
    unzip -q "$zip" bootstrap -d "$dir"
    local bin="$dir/bootstrap"

    local header
    if ! header="$(readelf -h "$bin" 2>/dev/null)"; then
        fail "$zip: \`bootstrap\` is not an ELF file"
        return 1
    fi
    local class machine type
    class="$(awk -F: '/^ *Class:/ { gsub(/^ +/, "", $2); print $2 }' <<<"$header")"
    machine="$(awk -F: '/^ *Machine:/ { gsub(/^ +/, "", $2); print $2 }' <<<"$header")"
    type="$(awk -F: '/^ *Type:/ { gsub(/^ +/, "", $2); print $2 }' <<<"$header")"
    if [ "$class" != "ELF64" ] || [[ "$machine" != *"X86-64"* ]]; then
        fail "$zip: \`bootstrap\` is $class for \`$machine\`, want ELF64 for x86-64"
        return 1
    fi
    if [[ "$type" != EXEC* && "$type" != DYN* ]]; then
        fail "$zip: \`bootstrap\` is not an executable (ELF type \`$type\`)"
        return 1
    fi

    local too_new
    too_new="$(readelf --version-info --wide "$bin" | glibc_too_new "$max_glibc")"
    if [ -n "$too_new" ]; then
        fail "$zip: \`bootstrap\` requires glibc symbol versions newer than $max_glibc: $(printf '%s' "$too_new" | tr '\n' ' ')"
        return 1
    fi

    local size
    size="$(unzip -Zs "$zip" bootstrap | awk '{ print $4 }')"
    echo "check-zip: $zip: ok (bootstrap: x86-64 ELF, $size bytes, glibc <= $max_glibc)"
}

# Each check must reject the fixture built to break it, with the expected message.
self_test() {
    local dir failures=0
    dir="$(mktemp -d)"
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" RETURN

    # expect_reject NAME ZIP PATTERN: check_zip must fail and say PATTERN.
    expect_reject() {
        local name="$1" zip="$2" pattern="$3" out
        if out="$(check_zip "$zip" 2>&1)"; then
            echo "self-test: FAIL $name: accepted"
            failures=$((failures + 1))
        elif [[ "$out" != *"$pattern"* ]]; then
            echo "self-test: FAIL $name: rejected for the wrong reason: $out"
            failures=$((failures + 1))
        else
            echo "self-test: ok   $name"
        fi
    }
    expect_accept() {
        local name="$1" zip="$2" out
        if out="$(check_zip "$zip" 2>&1)"; then
            echo "self-test: ok   $name"
        else
            echo "self-test: FAIL $name: rejected: $out"
            failures=$((failures + 1))
        fi
    }
    # zip_of NAME FILE...: a zip named NAME holding FILEs (paths relative to $dir/src).
    zip_of() {
        local name="$1"
        shift
        (cd "$dir/src" && zip -q -X "$dir/$name" "$@")
    }

    # The version parser, on readelf output as it appears for real binaries.
    local sample
    sample="$(printf '%s\n' \
        "  0x0020:   Name: GLIBC_2.2.5  Flags: none  Version: 5" \
        "  0x0030:   Name: GLIBC_2.3.4  Flags: none  Version: 4" \
        "  0x0040:   Name: GLIBC_2.34  Flags: none  Version: 3" \
        "  0x0050:   Name: GLIBC_2.35  Flags: none  Version: 2" \
        "  0x0060:   Name: GLIBC_2.4  Flags: none  Version: 6" \
        "  0x0070:   Name: GLIBC_PRIVATE  Flags: none  Version: 7")"
    local got
    got="$(glibc_too_new 2.34 <<<"$sample" | tr '\n' ' ')"
    if [ "$got" = "GLIBC_2.35 GLIBC_PRIVATE " ]; then
        echo "self-test: ok   glibc versions compare numerically"
    else
        echo "self-test: FAIL glibc versions compare numerically: got \`$got\`"
        failures=$((failures + 1))
    fi

    mkdir -p "$dir/src/sub"
    printf '#!/bin/sh\necho hi\n' >"$dir/src/bootstrap"
    chmod 755 "$dir/src/bootstrap"
    printf 'x' >"$dir/src/extra"
    zip_of two-files.zip bootstrap extra
    expect_reject "zip with two files" "$dir/two-files.zip" "expected exactly one entry"
    cp "$dir/src/bootstrap" "$dir/src/sub/bootstrap"
    zip_of nested.zip sub/bootstrap
    expect_reject "bootstrap not at the top" "$dir/nested.zip" "expected exactly one entry"
    zip_of script.zip bootstrap
    expect_reject "shell script instead of a binary" "$dir/script.zip" "not an ELF file"
    chmod 644 "$dir/src/bootstrap"
    zip_of not-exec.zip bootstrap
    expect_reject "bootstrap not executable" "$dir/not-exec.zip" "not an executable regular file"
    printf 'not a zip' >"$dir/garbage.zip"
    expect_reject "not a zip" "$dir/garbage.zip" "not a readable zip archive"

    # Real ELF fixtures need a C compiler; the host glibc decides what it can build.
    local cc="${CC:-cc}"
    if ! command -v "$cc" >/dev/null; then
        echo "self-test: skip ELF fixtures: no C compiler (\`$cc\`)"
    else
        rm -f "$dir/src/bootstrap"
        printf 'int main(void) { return 0; }\n' >"$dir/ok.c"
        "$cc" -O0 -o "$dir/src/bootstrap" "$dir/ok.c"
        chmod 755 "$dir/src/bootstrap"
        if [ -n "$(readelf --version-info --wide "$dir/src/bootstrap" | glibc_too_new "$max_glibc")" ]; then
            echo "self-test: skip ELF fixtures: even an empty program needs glibc > $max_glibc here"
        else
            zip_of good.zip bootstrap
            expect_accept "x86-64 executable within the glibc ceiling" "$dir/good.zip"

            # Same binary, e_machine (offset 18) patched to AArch64 (0xb7).
            printf '\xb7\x00' | dd of="$dir/src/bootstrap" bs=1 seek=18 conv=notrunc status=none
            zip_of arm.zip bootstrap
            expect_reject "binary for another machine" "$dir/arm.zip" "want ELF64 for x86-64"

            # arc4random appeared in glibc 2.36; only a host with glibc >= 2.36 links it.
            rm -f "$dir/src/bootstrap"
            printf '#include <stdlib.h>\nint main(void) { return (int)(arc4random() & 1); }\n' >"$dir/new.c"
            if "$cc" -O0 -o "$dir/src/bootstrap" "$dir/new.c" 2>/dev/null; then
                zip_of new-glibc.zip bootstrap
                expect_reject "binary needing a newer glibc" "$dir/new-glibc.zip" "newer than $max_glibc: GLIBC_2.36"
            else
                echo "self-test: skip newer-glibc fixture: host glibc has no arc4random (< 2.36)"
            fi
        fi
    fi

    if [ "$failures" -ne 0 ]; then
        fail "self-test: $failures check(s) misbehaved"
        return 1
    fi
    echo "self-test: all checks reject what they should"
}

status=0
if [ "${1:-}" = "--self-test" ]; then
    shift
    self_test || status=1
elif [ "$#" -eq 0 ]; then
    echo "usage: $0 [--self-test] [ZIP...]" >&2
    exit 2
fi
for zip in "$@"; do
    check_zip "$zip" || status=1
done
exit "$status"
