#!/usr/bin/env bash
# libFuzzer harness: builds the targets in Fuzz/Targets and runs them. See docs/testing.md, "Fuzzing".
#
#   scripts/fuzz.sh                 build and run every target for FUZZ_SECONDS (default 60) each, one after another
#   scripts/fuzz.sh build           build only
#   FUZZ_TARGETS="contract-json ascii-pattern" scripts/fuzz.sh    pick targets
#
# Each target is compiled with `swiftc -sanitize=fuzzer,address` from the few module sources it reaches (listed
# below), so coverage instruments exactly the parsing code; swift-crypto is linked from SwiftPM's own debug build
# (`swift build --target _CryptoExtras`). A crash, a leak, a timeout (-timeout) or a violated property (fuzzCheck)
# is a finding: libFuzzer writes the input to $FUZZ_FINDINGS/<target>/ and the script exits 1 after running the rest.
#
# Settings (environment): FUZZ_SECONDS, FUZZ_TARGETS, FUZZ_JOBS_NICE (nice level, default 10), FUZZ_FINDINGS
# (default .build/fuzz/findings), FUZZ_SANITIZERS (default fuzzer,address), FUZZ_EXTRA (more libFuzzer flags).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/.build/fuzz"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_FINDINGS="${FUZZ_FINDINGS:-$OUT/findings}"
FUZZ_SANITIZERS="${FUZZ_SANITIZERS:-fuzzer,address}"
NICE="${FUZZ_JOBS_NICE:-10}"

# Every target, in run order. To add one: Fuzz/Targets/<name>.swift, a line in target_modules, a seed corpus in
# Fuzz/corpus/<name>/ and, when it reaches a module not listed in module_sources, that module's files.
ALL_TARGETS="contract-json provider-json ascii-pattern command-decoder amanpay-callback firstpay-postback amqp-field-table trace-context status-projection payment-methods"
FUZZ_TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"

# The modules a target imports, in dependency order.
target_modules() {
    case "$1" in
    contract-json | ascii-pattern | command-decoder | status-projection | payment-methods) echo StrictJSON PaymentVocabulary PayBridgeContract ;;
    provider-json) echo StrictJSON PaymentVocabulary ProviderCore ;;
    amanpay-callback) echo StrictJSON PaymentVocabulary ProviderCore Amanpay ;;
    firstpay-postback) echo StrictJSON PaymentVocabulary ProviderCore FirstPay ;;
    amqp-field-table) echo AMQPValues AMQP ;;
    trace-context) echo PayBridgeTracing ;;
    *) echo "unknown fuzz target: $1" >&2; return 1 ;;
    esac
}

# Sources of a module as far as the targets reach it. Files that import AsyncHTTPClient/NIO (clients, transport)
# stay out: what parses outside bytes must not need them (AmanpayCallback, FirstPayPostback).
module_sources() {
    case "$1" in
    StrictJSON) ls Sources/StrictJSON/*.swift ;;
    PaymentVocabulary) ls Sources/PaymentVocabulary/*.swift ;;
    # With the schemas' Swift source, which is generated, not in git (embedded_schemas).
    PayBridgeContract) ls Sources/PayBridgeContract/*.swift && echo "$OUT/generated/EmbeddedSchemas.swift" ;;
    ProviderCore) echo Sources/ProviderCore/Masking.swift ;;
    Amanpay) printf 'Sources/Amanpay/%s.swift\n' AmanpaySignature AmanpayModels AmanpayCallback ;;
    FirstPay) printf 'Sources/FirstPay/%s.swift\n' FirstPayCanonicalizer FirstPaySigner FirstPayModels FirstPayPostback ;;
    # The field-table conversion and the values it builds; librabbitmq itself is linked as installed.
    AMQPValues) ls Sources/AMQPValues/*.swift ;;
    AMQP) printf 'Sources/AMQP/%s.swift\n' AMQPValues+Export LibRabbitMQ/LibRabbitMQArena ;;
    # Only the W3C parser and its id source: they need nothing else (the tracer and spans need
    # swift-distributed-tracing).
    PayBridgeTracing) printf 'Sources/PayBridgeTracing/%s.swift\n' TraceContext RandomWords ;;
    esac
}

# libFuzzer options per target: -max_len lets the decoder reach the size bounds (strings 64 KiB, containers).
fuzz_options() {
    local max_len=65536
    case "$1" in
    command-decoder | contract-json | provider-json) max_len=300000 ;;
    ascii-pattern | amqp-field-table | trace-context) max_len=4096 ;;
    esac
    echo "-max_len=$max_len -timeout=10 -rss_limit_mb=2048 -print_final_stats=1"
}

SWIFT_FLAGS=(-swift-version 6 -package-name PayBridge -enable-upcoming-feature ExistentialAny -parse-as-library -O -g
    "-sanitize=$FUZZ_SANITIZERS" -module-cache-path "$OUT/module-cache" -I "$ROOT/Sources/CRabbitMQ")

crypto() {
    # swift-crypto, uninstrumented, from SwiftPM's debug build (built once; a no-op when the package is built).
    if [[ ! -f "$OUT/crypto/libfuzzcrypto.a" || "$OUT/crypto/libfuzzcrypto.a" -ot Package.resolved ]]; then
        echo "== swift build --target _CryptoExtras (swift-crypto for the fuzz targets)"
        nice -n "$NICE" swift build --target _CryptoExtras >/dev/null
        local bin
        bin="$(swift build --show-bin-path)"
        rm -rf "$OUT/crypto" && mkdir -p "$OUT/crypto"
        ln -sfn "$bin/Modules" "$OUT/crypto/Modules"
        # Swift modules are one object each under Modules/; C targets keep theirs under <Target>.build/.
        local objects=()
        for m in Crypto CryptoBoringWrapper _CryptoExtras SwiftASN1 CryptoExtras; do
            [[ -f "$bin/Modules/$m.o" ]] && objects+=("$bin/Modules/$m.o")
        done
        while IFS= read -r o; do objects+=("$o"); done < <(
            find "$bin"/{Crypto,CryptoBoringWrapper,CryptoExtras,_CryptoExtras,SwiftASN1,CCryptoBoringSSL,CCryptoBoringSSLShims,CXKCP,CXKCPShims,CCryptoExtras}.build \
                -name '*.o' 2>/dev/null | sort)
        ar rcs "$OUT/crypto/libfuzzcrypto.a" "${objects[@]}"
    fi
}

# PayBridgeContract's `EmbeddedSchemas.swift` (the JSON Schemas of schemas/) is generated by SwiftPM's EmbedSchemas
# build-tool plugin and is not in git; outside SwiftPM, the plugin's own tool writes it here (rewritten only when a
# schema changed, so PayBridgeContract is not recompiled for nothing).
embedded_schemas() {
    nice -n "$NICE" swift build --target EmbedSchemasTool >/dev/null
    mkdir -p "$OUT/generated"
    "$(swift build --show-bin-path)/EmbedSchemasTool" "$ROOT/schemas" "$OUT/generated/EmbeddedSchemas.swift"
}

# Rebuilds a module when its sources, or the objects of the modules it imports (the arguments after the first),
# are newer than its object.
build_module() {
    local module="$1" sources
    shift
    mapfile -t sources < <(module_sources "$module")
    local object="$OUT/obj/$module.o"
    if [[ -f "$object" ]]; then
        local newer
        newer="$(find "${sources[@]}" "$@" -newer "$object" | head -1)"
        [[ -z "$newer" ]] && return 0
    fi
    echo "== module $module"
    mkdir -p "$OUT/obj" "$OUT/modules"
    nice -n "$NICE" swiftc "${SWIFT_FLAGS[@]}" -module-name "$module" -enable-testing -wmo \
        -I "$OUT/modules" -I "$OUT/crypto/Modules" \
        -emit-module -emit-module-path "$OUT/modules/$module.swiftmodule" -emit-object -o "$object" "${sources[@]}"
}

build_target() {
    local target="$1" modules objects=()
    read -r -a modules <<<"$(target_modules "$target")"
    # Every module but StrictJSON, PaymentVocabulary, ProviderCore and AMQP imports swift-crypto (EventID,
    # signatures); AMQP links librabbitmq.
    local needs_crypto=0 libraries=()
    case "${modules[*]}" in
    "StrictJSON PaymentVocabulary ProviderCore") ;;
    AMQP) libraries+=(-lrabbitmq) ;;
    PayBridgeTracing) ;;
    *) needs_crypto=1 && crypto ;;
    esac
    for m in "${modules[@]}"; do
        build_module "$m" "${objects[@]}"
        objects+=("$OUT/obj/$m.o")
    done
    ((needs_crypto)) && objects+=("$OUT/crypto/libfuzzcrypto.a")
    echo "== target $target"
    mkdir -p "$OUT/bin"
    nice -n "$NICE" swiftc "${SWIFT_FLAGS[@]}" -module-name "FuzzTarget" \
        -I "$OUT/modules" -I "$OUT/crypto/Modules" \
        Fuzz/Support/*.swift "Fuzz/Targets/$target.swift" "${objects[@]}" "${libraries[@]}" \
        -o "$OUT/bin/$target" 2> >(grep -v "Cannot export local symbol" >&2)
}

run_target() {
    local target="$1" corpus="Fuzz/corpus/$1" work="$OUT/corpus/$1" findings="$FUZZ_FINDINGS/$1"
    mkdir -p "$work" "$findings"
    echo "== run $target for ${FUZZ_SECONDS}s"
    # New inputs go to the work corpus (not committed); the seeds are read from Fuzz/corpus.
    # shellcheck disable=SC2046
    # The Swift runtime's backtracer and ASan's report would race for the crash; libFuzzer's report is enough.
    # Fuzz/lsan-suppressions.txt: known leaks outside PayBridge (one-time, at start-up).
    LSAN_OPTIONS="suppressions=$ROOT/Fuzz/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
        SWIFT_BACKTRACE=enable=no nice -n "$NICE" "$OUT/bin/$target" $(fuzz_options "$target") ${FUZZ_EXTRA:-} \
        -max_total_time="$FUZZ_SECONDS" -artifact_prefix="$findings/" "$work" "$corpus" \
        >"$OUT/$target.log" 2>&1
}

failed=()
for target in $FUZZ_TARGETS; do
    if [[ " $(target_modules "$target") " == *" PayBridgeContract "* ]]; then
        embedded_schemas
        break
    fi
done
for target in $FUZZ_TARGETS; do build_target "$target"; done
[[ "${1:-run}" == "build" ]] && exit 0
for target in $FUZZ_TARGETS; do
    if run_target "$target"; then
        grep -E "stat::number_of_executed_units|stat::new_units_added" "$OUT/$target.log" | tr '\n' ' ' || true
        echo
    else
        echo "!! $target: finding (log $OUT/$target.log, inputs in $FUZZ_FINDINGS/$target/)"
        tail -30 "$OUT/$target.log"
        failed+=("$target")
    fi
done
if ((${#failed[@]})); then
    echo "fuzz findings in: ${failed[*]}"
    exit 1
fi
echo "fuzz: no findings"
