# Shared by scripts/run, scripts/test and scripts/loadtest. Source it; do not run it.

PARLEY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[parley] %s\n' "$*" >&2; }
die() { printf '[parley] error: %s\n' "$*" >&2; exit 1; }

# Installs the named Debian packages that are missing; does nothing when all are present.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo="sudo"
  fi
  log "installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# Java 17+, Maven and Node 20+ with npm are expected on the machine (see README.md).
ensure_toolchain() {
  command -v java >/dev/null || ensure_packages openjdk-17-jdk-headless
  command -v mvn >/dev/null || ensure_packages maven
  command -v node >/dev/null && command -v npm >/dev/null || die "Node.js 20+ with npm is required to build the web client"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js 20+ is required (found $(node --version))"
}

gateway_jar() { echo "$PARLEY_ROOT/signaling/target/parley-signaling.jar"; }

# Builds the app when the jar is missing or any source is newer than it.
ensure_built() {
  local jar
  jar="$(gateway_jar)"
  if [ -f "$jar" ] && [ -z "$(find "$PARLEY_ROOT"/{pom.xml,config,media-server/src,media-server/pom.xml,signaling/src,signaling/pom.xml,web-client/src,web-client/index.html,web-client/package.json,web-client/pom.xml} -newer "$jar" 2>/dev/null | head -1)" ]; then
    return 0
  fi
  log "building (mvn install -DskipTests)"
  (cd "$PARLEY_ROOT" && mvn -B -q install -DskipTests) || die "build failed"
}
