# Sourced by ./run and ./test: the Debian jars, the JVM options and the build step.
JARS=/usr/share/java/amqp-client.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar
JARS=$JARS:/usr/share/java/sqlite-jdbc.jar
# A short-lived command-line program: quick start-up over peak speed; the AMQP client's own log at warn and above.
JAVA_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"

# build DIR SET: when a source is newer than DIR/.build/SET.jar, compiles DIR/src/main (and DIR/src/SET) with javac
# and packs the classes into that jar: built aside, then renamed into place, so a running program keeps the jar it
# opened. A lock keeps two commands started at once from building side by side.
build() {
  _dir=$1 _set=$2 _jar=$1/.build/$2.jar
  mkdir -p "$_dir/.build"
  exec 9>"$_dir/.build/lock"
  flock 9
  if [ ! -f "$_jar" ] || [ -n "$(find "$_dir/src" -name '*.java' -newer "$_jar" | head -1)" ]; then
    _tmp=$(mktemp -d "$_dir/.build/$_set.XXXXXX")
    _sources=$(find "$_dir/src/main" "$_dir/src/$_set" -name '*.java' | sort -u)
    # shellcheck disable=SC2086 # the source paths have no spaces
    if javac -Xlint:all,-serial -encoding UTF-8 -d "$_tmp/classes" -cp "$JARS" $_sources \
        && jar --create --file "$_tmp/$_set.jar" -C "$_tmp/classes" .; then
      mv -f "$_tmp/$_set.jar" "$_jar"
      rm -rf "$_tmp"
    else
      rm -rf "$_tmp"
      exit 1
    fi
  fi
  exec 9>&-
}
