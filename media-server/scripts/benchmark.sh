#!/bin/sh
# Builds the media server's JMH benchmarks (profile "bench", into target/bench) and runs them.
# Arguments go to JMH, e.g.:  media-server/scripts/benchmark.sh ForwardingBenchmark -prof gc
set -eu
cd "$(dirname "$0")/../.."
mvn -B -q -Pbench -pl media-server package -DskipTests
exec java -cp "media-server/target/bench/classes:media-server/target/bench/lib/*" org.openjdk.jmh.Main "$@"
