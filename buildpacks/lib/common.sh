# Shared helpers of the paas buildpacks (bash). `paas builder create` copies
# this file into each buildpack as lib/common.sh; bin/detect and bin/build
# source it. Buildpack API 0.10: inputs come from CNB_* environment variables
# and the working directory is the app directory.

set -euo pipefail

# The lifecycle passes buildpacks a filtered environment, so the settings of
# the build image that tools need are set again here.
export HOME="${HOME:-/home/cnb}"
export LANG="${LANG:-C.UTF-8}"
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
  export PIP_CERT="$SSL_CERT_FILE" REQUESTS_CA_BUNDLE="$SSL_CERT_FILE"
  export NODE_EXTRA_CA_CERTS="$SSL_CERT_FILE" CURL_CA_BUNDLE="$SSL_CERT_FILE"
fi

# ---- output ---------------------------------------------------------------

step() { printf -- '-----> %s\n' "$*"; }
info() { printf -- '       %s\n' "$*"; }
warn() { printf -- ' !     warning: %s\n' "$*" >&2; }

# fail STEP MESSAGE HINT: print a build error that names the step and the fix.
fail() {
  printf -- ' !     error in step `%s`: %s\n' "$1" "$2" >&2
  [[ -n "${3:-}" ]] && printf -- ' !     hint: %s\n' "$3" >&2
  exit 1
}

# run_step STEP HINT CMD...: run CMD, indenting its output; on failure, fail STEP.
run_step() {
  local name=$1 hint=$2
  shift 2
  local rc=0
  "$@" 2>&1 | sed -u 's/^/       /' || rc=${PIPESTATUS[0]}
  if [[ $rc -ne 0 ]]; then
    fail "$name" "\`${1##*/} ${*:2:3}\` exited $rc (its output is above)" "$hint"
  fi
}

# ---- app files ------------------------------------------------------------

# first_line FILE: the first line that is not blank or a # comment, trimmed.
first_line() {
  [[ -f "$1" ]] || return 0
  sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$1" | grep -v -e '^$' -e '^#' | head -n 1 || true
}

# hash_files FILE...: one sha256 over the names and contents of the files that exist.
hash_files() {
  local f
  for f in "$@"; do
    if [[ -f "$f" ]]; then
      printf '%s\n' "$f"
      sha256sum <"$f"
    fi
  done | sha256sum | cut -c1-64
}

# ---- layers ---------------------------------------------------------------

# layer_meta LAYER KEY: the `KEY = "value"` metadata of a restored layer, or empty.
layer_meta() {
  local toml="$CNB_LAYERS_DIR/$1.toml"
  [[ -f "$toml" ]] || return 0
  sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*\"\(.*\)\"[[:space:]]*$/\1/p" "$toml" | head -n 1
}

# write_layer LAYER "launch build cache" KEY=VALUE...: write the layer's toml.
write_layer() {
  local name=$1 types=$2
  shift 2
  local t
  {
    echo "[types]"
    for t in launch build cache; do
      if [[ " $types " == *" $t "* ]]; then echo "  $t = true"; else echo "  $t = false"; fi
    done
    echo "[metadata]"
    local kv
    for kv in "$@"; do echo "  ${kv%%=*} = \"${kv#*=}\""; done
  } >"$CNB_LAYERS_DIR/$name.toml"
}

# ---- versions -------------------------------------------------------------

# resolve_version LANGUAGE SPEC SOURCE VERSION...: print the version to install.
#
# SPEC is what the app asked for (`3.12`, `3.12.1`, `20.x`, `^20.1`, `>=18`,
# `go1.22`, empty for the newest). An exact X.Y.Z that is not available uses
# the newest patch of the same X.Y and says so on stderr; a version with no
# match fails with the list of available versions.
resolve_version() {
  local lang=$1 spec=$2 source=$3
  shift 3
  local available=("$@") pick="" v
  local sorted
  sorted=$(printf '%s\n' "${available[@]}" | sort -V)
  local s=${spec#go}
  s=${s#v}
  s=${s#python-}
  s=${s//[[:space:]]/}
  case "$s" in
    "" | "*" | latest | "lts/*" | node | stable)
      pick=$(tail -n 1 <<<"$sorted")
      ;;
    ">="* | ">"*)
      # A lower bound (optionally with an upper bound after a comma or
      # space): the newest available version that satisfies the lower bound.
      local low=${s#>=}
      low=${low#>}
      low=${low%%[,<]*}
      for v in $sorted; do
        if [[ "$(printf '%s\n%s\n' "$low" "$v" | sort -V | head -n 1)" == "$low" ]]; then pick=$v; fi
      done
      local high=""
      if [[ "$s" == *"<"* ]]; then
        high=${s#*<}
        high=${high#=}
        local under=""
        for v in $sorted; do
          if [[ "$v" != "$high" && "$(printf '%s\n%s\n' "$high" "$v" | sort -V | head -n 1)" == "$v" ]]; then
            if [[ "$(printf '%s\n%s\n' "$low" "$v" | sort -V | head -n 1)" == "$low" ]]; then under=$v; fi
          fi
        done
        pick=$under
      fi
      ;;
    *)
      s=${s#^}
      s=${s#~}
      s=${s#=}
      s=${s#=}
      s=${s%.x}
      s=${s%.x}
      s=${s%.\*}
      if [[ ! "$s" =~ ^[0-9]+(\.[0-9]+){0,2}$ ]]; then
        fail "resolve $lang version" "the $lang version \`$spec\` (from $source) is not understood" \
          "write a version such as \`${available[-1]}\` or \`${available[-1]%.*}\` in $source"
      fi
      local dots=${s//[^.]/}
      if [[ ${#dots} -eq 2 ]]; then
        for v in $sorted; do [[ "$v" == "$s" ]] && pick=$v; done
        if [[ -z "$pick" ]]; then
          local minor=${s%.*}
          for v in $sorted; do [[ "$v" == "$minor".* ]] && pick=$v; done
          if [[ -n "$pick" ]]; then
            warn "$lang $s (from $source) is not available; using $pick, the newest patch release of $minor"
          fi
        fi
      else
        for v in $sorted; do [[ "$v" == "$s".* || "$v" == "$s" ]] && pick=$v; done
      fi
      ;;
  esac
  if [[ -z "$pick" ]]; then
    fail "resolve $lang version" \
      "$lang \`$spec\` (from $source) is not available; this builder has $(echo $sorted | sed 's/ /, /g')" \
      "ask for one of those versions in $source"
  fi
  printf '%s\n' "$pick"
}

# ---- processes ------------------------------------------------------------

# toml_string TEXT: TEXT as a TOML basic string.
toml_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# write_processes TYPE=COMMAND...: write launch.toml; `web` is the default.
#
# Commands run through bash (like a Procfile line on Heroku), so `$PORT` and
# `${PORT:-5000}` work; the working directory is the app directory.
write_processes() {
  local out="$CNB_LAYERS_DIR/launch.toml" kv type cmd
  : >"$out"
  for kv in "$@"; do
    type=${kv%%=*}
    cmd=${kv#*=}
    {
      echo "[[processes]]"
      echo "  type = $(toml_string "$type")"
      echo "  command = [\"bash\", \"-c\", $(toml_string "$cmd")]"
      [[ "$type" == web ]] && echo "  default = true"
      echo
    } >>"$out"
  done
}

# web_process DEFAULT: the web command: PAAS_WEB_COMMAND (set by `paas build`
# from `paas detect`), else DEFAULT. The Procfile buildpack, later in the
# group, overrides it with the Procfile's `web:` entry.
web_command() {
  if [[ -n "${PAAS_WEB_COMMAND:-}" ]]; then
    printf '%s\n' "$PAAS_WEB_COMMAND"
  else
    printf '%s\n' "$1"
  fi
}

# code_only NAME JSON: declare, with the image label `io.paas.code-only.NAME`, that
# this buildpack's output depends on no app file but the `deps` patterns of JSON
# (`{"deps": [...], "generated": [...]}`, `generated` being the paths it wrote
# into the app directory). Call it after write_processes, and only when no step
# read the app's code: then `paas push` may replace just the app layer when only
# other files change (see docs/builds.md, "The code-only fast path").
code_only() {
  {
    echo "[[labels]]"
    echo "  key = $(toml_string "io.paas.code-only.$1")"
    echo "  value = $(toml_string "$2")"
    echo
  } >>"$CNB_LAYERS_DIR/launch.toml"
}

# web_guessed: whether the image's web command is this buildpack's own guess:
# no PAAS_WEB_COMMAND and no `web:` line in the Procfile (which wins).
web_guessed() {
  [[ -z "${PAAS_WEB_COMMAND:-}" ]] && ! grep -qE '^[[:space:]]*web[[:space:]]*:' Procfile 2>/dev/null
}

# port_default: a launch-time PORT of 5000 when the platform sets none (the
# platform always sets it; `podman run IMAGE` does not).
port_default() {
  local layer="$CNB_LAYERS_DIR/port"
  mkdir -p "$layer/env.launch"
  printf '5000' >"$layer/env.launch/PORT.default"
  write_layer port "launch"
}
