#!/bin/sh
# The whole test suite on a fresh Debian 12 machine, as root:
#   dependencies, README.md's Install followed into a scratch root (tests/install.sh), the
#   contrib/ kit's checks (tests/contrib.sh), a -Werror build, the suite under ASan+UBSan,
#   every libFuzzer target for FUZZ_SECONDS (default 10) each, then the suite on the plain
#   build (its ctest summary is the last thing printed).
set -eu
cd "$(dirname "$0")/.."
sh tests/setup-host.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== README.md's Install, into a scratch root, without cmocka"
sh tests/install.sh
echo "== contrib/: Prometheus rules and their tests, Grafana dashboard, Icinga 2, NRPE"
sh tests/contrib.sh

cmake -S . -B build-asan -DMAINTD_WERROR=ON -DMAINTD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$jobs"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DMAINTD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$jobs"
cmake -S . -B build -DMAINTD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

echo "== fuzzing, ${FUZZ_SECONDS:-10} s per target"
for corpus in tests/fuzz/corpus/*/; do
	name=$(basename "$corpus")
	new=$(mktemp -d)
	ASAN_OPTIONS=detect_leaks=1 "build-fuzz/tests/$name" -max_total_time="${FUZZ_SECONDS:-10}" \
	    -max_len=65536 -print_final_stats=0 "$new" "$corpus" > "$new.log" 2>&1 ||
	    { tail -40 "$new.log"; echo "fuzz target $name failed"; exit 1; }
	echo "$name: $(grep -Eo 'DONE.*' "$new.log" | tail -1) $(grep -c '' "$new.log") log lines"
	rm -rf "$new" "$new.log"
done

echo "== tests under ASan+UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "$jobs")
echo "== tests"
cd build && ctest --output-on-failure -j "$jobs"
