# Sourced by ./run and ./test: the Debian jars, the JVM options and the build step.
JARS=/usr/share/java/amqp-client.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar
JARS=$JARS:/usr/share/java/sqlite-jdbc.jar
# A short-lived command-line program: quick start-up over peak speed; the AMQP client's own log at warn and above.
JAVA_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"

# build DIR SET: compiles DIR/src/SET (plus src/main for the test set) into DIR/.build/SET when a source is newer
# than the last build. A lock keeps two commands started at once from compiling into the same directory.
build() {
  _dir=$1 _set=$2 _out=$1/.build/$2
  mkdir -p "$_dir/.build"
  exec 9>"$_dir/.build/lock"
  flock 9
  if [ ! -f "$_out.stamp" ] || [ -n "$(find "$_dir/src" -name '*.java' -newer "$_out.stamp" | head -1)" ]; then
    touch "$_out.stamp.new"
    rm -rf "$_out" && mkdir -p "$_out"
    _sources=$(find "$_dir/src/main" "$_dir/src/$_set" -name '*.java' | sort -u)
    # shellcheck disable=SC2086 # the source paths have no spaces
    javac -Xlint:all,-serial -encoding UTF-8 -d "$_out" -cp "$JARS" $_sources
    mv "$_out.stamp.new" "$_out.stamp"
  fi
  exec 9>&-
}
