# shellcheck shell=bash
# Helpers of the Java buildpack's bin/build (sourced after lib/common.sh).

# pom_property POM NAME: the first <NAME> element's text, trimmed; empty when
# it is a ${...} reference (like paas/detect/java.py).
pom_property() {
  local value
  value=$(grep -o "<${2//./\\.}>[^<]*</${2//./\\.}>" <<<"$1" | head -n 1 \
    | sed -e 's/<[^>]*>//g' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' || true)
  [[ "$value" == *'${'* ]] || printf '%s' "$value"
}

# release_value FILE KEY: a KEY="value" line of a JDK's `release` file.
release_value() {
  sed -n "s/^$2=\"\(.*\)\"[[:space:]]*$/\1/p" "$1" | head -n 1
}

# property FILE KEY: a Java properties value (`key=value`, `\:` unescaped).
property() {
  local v
  v=$(tr -d '\r' <"$1" | sed -n "s/^[[:space:]]*$2[[:space:]]*[=:][[:space:]]*//p" | head -n 1)
  v=${v//\\:/:}
  v=${v//\\=/=}
  printf '%s' "${v%"${v##*[![:space:]]}"}"
}

# java_major SPEC: the major version of `17`, `17.0.15`, `17.0.x`, `1.8`,
# `zulu-21`; fails (no output) when SPEC is not a Java version.
java_major() {
  local s=${1//[[:space:]]/}
  [[ "$s" =~ ^[A-Za-z]+-(.+)$ ]] && s=${BASH_REMATCH[1]}
  if [[ "$s" =~ ^1\.([0-9]+)([._].*)?$ ]]; then
    printf '%s' "${BASH_REMATCH[1]}"
  elif [[ "$s" =~ ^([0-9]+)([.+].*)?$ ]]; then
    printf '%s' "$((10#${BASH_REMATCH[1]}))"
  else
    return 1
  fi
}

# not_offered MAJOR SPEC SOURCE: fail, saying why this builder has no such JDK
# and what to do (reads bin/build's `majors`, `jdk_home` and `build_file`).
not_offered() {
  local major=$1 spec=$2 source=$3 have why fix
  have=$(for m in "${majors[@]}"; do printf 'OpenJDK %s (%s), ' "$m" "$(release_value "${jdk_home[$m]}/release" JAVA_VERSION)"; done)
  have=${have%, }
  if [[ $major -gt ${majors[-1]} ]]; then
    why="Debian serves OpenJDK 21 and 25 only for trixie and newer, whose binaries need a newer C library than this Debian 12 base"
  else
    why="Debian 12 has no OpenJDK $major package, and code written for Java $major usually runs on Java ${majors[0]}"
  fi
  case $source in
    system.properties*) fix="set \`java.runtime.version=${majors[-1]}\` in system.properties" ;;
    pom.xml*) fix="set \`<maven.compiler.release>${majors[-1]}</maven.compiler.release>\` (or \`<java.version>\`) in pom.xml" ;;
    *) fix="use \`JavaLanguageVersion.of(${majors[-1]})\` in $build_file" ;;
  esac
  fail "resolve Java version" \
    "Java $spec (from $source) is not offered: this builder has $have only; $why" \
    "$fix, or build the app with a Dockerfile (\`paas build --strategy dockerfile\`) from an image that has Java $major"
}

# copy_runtime JDK LAYER: the runtime part of the JDK: bin/java and the
# diagnostic tools, lib/, conf/ and release, with Debian's symlinks (to
# /etc/java-17-openjdk and /etc/ssl/certs/java/cacerts) resolved.
copy_runtime() {
  local src=$1 dest=$2 f name
  mkdir -p "$dest/bin" "$dest/lib"
  for name in java keytool jcmd jfr jinfo jmap jps jstack jstat; do
    if [[ -x "$src/bin/$name" ]]; then cp -L "$src/bin/$name" "$dest/bin/"; fi
  done
  for f in "$src"/lib/*; do
    name=${f##*/}
    # ct.sym is javac's; a dangling link (src.zip, the accessibility bridge)
    # points into a package that is not installed.
    [[ "$name" == ct.sym || ! -e "$f" ]] && continue
    cp -RL "$f" "$dest/lib/" || return 1
  done
  cp -RL "$src/conf" "$dest/conf" || return 1
  cp -L "$src/release" "$dest/release" || return 1
  if [[ -d "$src/legal" ]]; then cp -RL "$src/legal" "$dest/legal" 2>/dev/null || true; fi
  [[ -s "$dest/lib/security/cacerts" ]] || { echo "lib/security/cacerts is missing" >&2; return 1; }
}

# url_host URL: the host (and port) of URL, without credentials.
url_host() {
  local u=${1#*://}
  u=${u%%/*}
  printf '%s' "${u##*@}"
}

# url_without_credentials URL: URL with any user:password@ removed.
url_without_credentials() {
  local u=$1
  if [[ "$u" =~ ^([a-z]+://)[^/@]*@(.*)$ ]]; then u="${BASH_REMATCH[1]}${BASH_REMATCH[2]}"; fi
  printf '%s' "$u"
}

# xml_escape TEXT
xml_escape() {
  local s=$1
  s=${s//&/&amp;}
  s=${s//</&lt;}
  s=${s//>/&gt;}
  printf '%s' "$s"
}

# write_mirror_settings URL FILE: Maven settings with a mirror of every
# repository at URL, with PAAS_MAVEN_MIRROR_USERNAME/PASSWORD as its
# credentials. The file is private and lives only in this build container.
write_mirror_settings() {
  local url=$1 file=$2
  (
    umask 077
    {
      echo '<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">'
      echo '  <mirrors><mirror>'
      echo '    <id>paas-mirror</id><mirrorOf>*</mirrorOf>'
      echo "    <url>$(xml_escape "$url")</url>"
      echo '  </mirror></mirrors>'
      if [[ -n "${PAAS_MAVEN_MIRROR_USERNAME:-}" ]]; then
        echo '  <servers><server><id>paas-mirror</id>'
        echo "    <username>$(xml_escape "$PAAS_MAVEN_MIRROR_USERNAME")</username>"
        echo "    <password>$(xml_escape "${PAAS_MAVEN_MIRROR_PASSWORD:-}")</password>"
        echo '  </server></servers>'
      fi
      echo '</settings>'
    } >"$file"
  )
}

# fetch URL OUT: download with curl, with the mirror's credentials (passed
# in a config on a pipe, so they are not on a command line).
fetch() {
  if [[ -n "${PAAS_MAVEN_MIRROR_USERNAME:-}" && -n "${PAAS_MAVEN_MIRROR:-}" && "$1" == "${PAAS_MAVEN_MIRROR%/}"/* ]]; then
    local cred="$PAAS_MAVEN_MIRROR_USERNAME:${PAAS_MAVEN_MIRROR_PASSWORD:-}"
    cred=${cred//\\/\\\\}
    cred=${cred//\"/\\\"}
    curl -fsSL --retry 2 -o "$2" -K - "$1" <<<"user = \"$cred\""
  else
    curl -fsSL --retry 2 -o "$2" "$1"
  fi
}

# download_maven BASE VERSION DIR: Maven VERSION's binary tarball from the
# Maven repository at BASE, checked against the .sha512 beside it, into DIR.
download_maven() {
  local base=$1 v=$2 dir=$3
  local url="$base/org/apache/maven/apache-maven/$v/apache-maven-$v-bin.tar.gz"
  local shown hint
  shown="$(url_host "$base")/…/apache-maven-$v-bin.tar.gz"
  hint="check that the build can reach $(url_host "$base") (Maven Central, or the mirror in PAAS_MAVEN_MIRROR)"
  fetch "$url" /tmp/maven.tar.gz 2>/tmp/maven-fetch.err \
    || fail "download Maven" "could not download $shown: $(tail -n 1 /tmp/maven-fetch.err)" "$hint"
  fetch "$url.sha512" /tmp/maven.tar.gz.sha512 2>/tmp/maven-fetch.err \
    || fail "download Maven" "could not download the checksum $shown.sha512: $(tail -n 1 /tmp/maven-fetch.err)" "$hint"
  local sum
  sum=$(cut -d' ' -f1 </tmp/maven.tar.gz.sha512 | tr -d '\r\n')
  echo "$sum  /tmp/maven.tar.gz" | sha512sum -c --quiet >/dev/null 2>&1 \
    || fail "download Maven" "apache-maven-$v-bin.tar.gz does not match its .sha512 checksum" "build again; if it persists, check the mirror"
  rm -rf "$dir"/apache-maven-*
  tar -xzf /tmp/maven.tar.gz -C "$dir"
  rm -f /tmp/maven.tar.gz /tmp/maven.tar.gz.sha512 /tmp/maven-fetch.err
  info "downloaded Maven $v from $(url_host "$base") (sha512 checked)"
}

# check_gradle_distribution URL PROPS: fail in step `gradle wrapper` unless
# gradlew can get its distribution: already in GRADLE_USER_HOME, a file
# beside the properties, or a URL this build reaches.
check_gradle_distribution() {
  local url=$1 props=$2 name err
  [[ -n "$url" ]] || fail "gradle wrapper" "$props has no distributionUrl" "run \`gradle wrapper\` on your machine and commit gradle/wrapper/"
  name=${url##*/}
  name=${name%.zip}
  if compgen -G "$GRADLE_USER_HOME/wrapper/dists/$name/*/*/bin/gradle" >/dev/null; then
    info "reusing the cached $name"
    return 0
  fi
  case $url in
    *://*) ;;
    *)
      [[ -f "${props%/*}/$url" ]] || fail "gradle wrapper" "the Gradle distribution $url (relative to $props) is not in the app" \
        "commit it beside gradle-wrapper.properties, or point distributionUrl at a URL this build can reach"
      return 0 ;;
  esac
  if ! err=$(curl -fsS -o /dev/null -r 0-0 -L --connect-timeout 5 --max-time 20 "$url" 2>&1); then
    fail "gradle wrapper" \
      "the Gradle distribution at $(url_without_credentials "$url") cannot be downloaded from this build (${err#curl: }), so \`./gradlew\` cannot run" \
      "point \`distributionUrl\` in $props at a mirror of services.gradle.org that this build can reach, or commit the distribution zip beside gradle-wrapper.properties and set \`distributionUrl=$name.zip\` (a path relative to that file), or build with a Dockerfile (\`paas build --strategy dockerfile\`)"
  fi
}

# run_build STEP TOOL SHOWN CMD...: run the build tool, its output indented
# and kept; on failure show its last 30 lines again, with a hint, and fail
# STEP. SHOWN is the command as the error names it.
run_build() {
  local name=$1 tool=$2 shown=$3
  shift 3
  local log=/tmp/paas-$tool.log rc=0
  "$@" 2>&1 | tee "$log" | sed -u 's/^/       /' || rc=${PIPESTATUS[0]}
  [[ $rc -eq 0 ]] && return 0
  {
    printf -- " !     the last 30 lines of %s's output:\n" "${tool^}"
    # Without Maven's closing advice (-e, -X, [Help 1]), which says nothing about this app.
    grep -v -E '^\[ERROR\] (To see the full stack trace|Re-run Maven using|For more information about the errors|\[Help [0-9]+\]|-> \[Help|$)' "$log" \
      | tail -n 30 | sed 's/^/ !     | /'
  } >&2
  local hint
  if grep -q -e 'Could not transfer artifact' -e 'Could not resolve dependencies' -e 'Could not resolve all' \
    -e 'Unknown host' -e 'Connect timed out' "$log"; then
    hint="a dependency could not be downloaded: this build reaches Maven Central (repo.maven.apache.org); for another repository set PAAS_MAVEN_MIRROR to a mirror of it, or fix the dependency's coordinates"
  elif [[ $tool == maven ]]; then
    hint="fix what the [ERROR] lines above report (a compile error names the file and line), check with \`./mvnw -B -DskipTests clean package\` on your machine, and push again"
  else
    hint="fix what the output above reports (a compile error names the file and line), check with \`./gradlew build -x test\` on your machine, and push again"
  fi
  fail "$name" "\`$shown\` exited $rc; its last lines are above" "$hint"
}

# manifest_value JAR KEY: a main attribute of the jar's manifest.
manifest_value() {
  local text
  if command -v unzip >/dev/null; then
    text=$(unzip -p "$1" META-INF/MANIFEST.MF 2>/dev/null || true)
  else
    text=$(cd "$(mktemp -d)" && jar xf "$OLDPWD/$1" META-INF/MANIFEST.MF 2>/dev/null && cat META-INF/MANIFEST.MF || true)
  fi
  tr -d '\r' <<<"$text" | sed -n "s/^$2: *//p" | head -n 1 || true
}

# runnable_jars DIR: the jars and wars in DIR with a Main-Class (not the
# sources, javadoc, tests or Gradle's -plain jars).
runnable_jars() {
  local j
  for j in "$1"/*.jar "$1"/*.war; do
    [[ -f "$j" ]] || continue
    case $j in *-sources.jar | *-javadoc.jar | *-tests.jar | *-plain.jar) continue ;; esac
    [[ -n "$(manifest_value "$j" Main-Class)" ]] && printf '%s\n' "$j"
  done
  return 0
}

# check_detected_jar WEB_COMMAND DEFAULT: warn when the command `paas detect`
# gave names a jar this build did not make (the build's own is DEFAULT).
check_detected_jar() {
  local cmd=$1 default=$2 named
  [[ "$cmd" =~ -jar[[:space:]]+([^[:space:]]+) ]] || return 0
  named=${BASH_REMATCH[1]}
  if ! compgen -G "$named" >/dev/null; then
    warn "the web command \`$cmd\` (from \`paas detect\`) starts $named, which this build did not make${default:+; the build made ${default##* -jar }}: add \`web: ${default:-java -jar JAR}\` to a Procfile"
  fi
}
