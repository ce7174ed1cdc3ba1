#!/usr/bin/env bash
# PayBridge's container images built from local bases, with podman, where no container registry can be reached
# (deploy/images.md). Debian 12, as root; `bash scripts/install-deps.sh image` installs podman,
# runc and debootstrap.
#   bash scripts/images.sh [all|base|rabbitmq|binaries|paybridge|sizes]      (default: all, in that order)
#   base       localhost/paybridge-base:bookworm   Debian 12 minbase from Debian's archive (debootstrap), trimmed
#                                                  like debian:bookworm-slim; rebuilt only when its recipe changed
#   rabbitmq   localhost/paybridge-rabbitmq:3.10   deploy/rabbitmq.Containerfile FROM that base
#   binaries   paybridge and paybridge-sandbox: one static-stdlib release build on the host (scratch path
#              .build/image), checked with ldd to need no Swift runtime, copied into .build/image-context/prebuilt
#   paybridge  localhost/paybridge:$IMAGE_TAG      deploy/Dockerfile with PAYBRIDGE_BINARIES=prebuilt FROM that base
#   sizes      the three images' sizes, also written to .build/image-sizes.txt
# Settings: IMAGE_TAG (dev), PAYBRIDGE_TRAITS (OTLPExporter, as the Dockerfile; empty builds without the span
# exporter), DEBIAN_MIRROR (http://deb.debian.org/debian), DEBIAN_SECURITY_MIRROR
# (http://deb.debian.org/debian-security), SWIFT (swift). podman builds and runs with --runtime runc and explicit
# ulimits: crun refuses this machine's hybrid cgroups, and the default limits are refused.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE_TAG=${IMAGE_TAG:-dev}
PAYBRIDGE_TRAITS=${PAYBRIDGE_TRAITS-OTLPExporter}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SWIFT=${SWIFT:-swift}
SUITE=bookworm
BASE_IMAGE=localhost/paybridge-base:$SUITE
RABBITMQ_IMAGE=localhost/paybridge-rabbitmq:3.10
PAYBRIDGE_IMAGE=localhost/paybridge:$IMAGE_TAG
SCRATCH=.build/image
CONTEXT=.build/image-context
RECIPE_LABEL=org.paybridge.base-recipe
PODMAN_LIMITS=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
# --format docker: the OCI image format has no HEALTHCHECK (podman would drop it with a warning).
PODMAN_BUILD=(podman build "${PODMAN_LIMITS[@]}" --format docker)

say() { printf '==> %s\n' "$*"; }
die() { printf 'images.sh: %s\n' "$*" >&2; exit 1; }

# --- base: Debian 12 minbase -----------------------------------------------------------------------------------

# debootstrap's minbase (dpkg, apt and Essential: no init, no docs tools) from Debian's archive, in $1.
bootstrap_rootfs() {
  debootstrap --variant=minbase --components=main "$SUITE" "$1" "$DEBIAN_MIRROR" >/dev/null
}

# What debian:bookworm-slim does on top of a minbase (debuerreotype's slimming): the release, updates and security
# suites; no docs, man pages, locales or apt caches, now or in packages installed later; no services started by
# maintainer scripts; no host files podman provides at run time.
slim_rootfs() {
  local root=$1
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $DEBIAN_SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/paybridge-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/paybridge-slim" <<'EOF'
APT::Install-Recommends "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
EOF
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,groff,info,lintian,linda}/* "$root"/usr/share/locale/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* "$root"/debootstrap \
    "$root"/etc/hostname "$root"/etc/resolv.conf
  : >"$root/etc/machine-id"
}

# The recipe's fingerprint: the two functions above and their inputs. A base built from another recipe is rebuilt.
base_recipe() {
  { declare -f bootstrap_rootfs slim_rootfs; echo "$SUITE $DEBIAN_MIRROR $DEBIAN_SECURITY_MIRROR"; } \
    | sha256sum | cut -c1-16
}

build_base() {
  local recipe root
  recipe=$(base_recipe)
  if podman image exists "$BASE_IMAGE" \
     && [ "$(podman image inspect --format "{{index .Labels \"$RECIPE_LABEL\"}}" "$BASE_IMAGE")" = "$recipe" ]; then
    say "$BASE_IMAGE: cached (recipe $recipe)"; return
  fi
  say "$BASE_IMAGE: debootstrap --variant=minbase $SUITE from $DEBIAN_MIRROR"
  root=$(mktemp -d /var/tmp/paybridge-base.XXXXXX)
  # shellcheck disable=SC2064  # the path is fixed now
  trap "rm -rf '$root'" EXIT
  bootstrap_rootfs "$root"
  slim_rootfs "$root"
  tar --numeric-owner -C "$root" -c . \
    | podman import --quiet --change "LABEL $RECIPE_LABEL=$recipe" --change 'CMD ["/bin/bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --message "debootstrap --variant=minbase $SUITE, slimmed (scripts/images.sh)" - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
  trap - EXIT
}

# Builds an image with `podman build ARGS...` and removes the image it replaces (and with it the replaced layers podman
# keeps as cache), unless a container still uses it: without this, every new binary leaves 350 MB behind.
build_replacing() {
  local image=$1 old new
  shift
  old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  "${PODMAN_BUILD[@]}" -t "$image" "$@"
  new=$(podman image inspect --format '{{.Id}}' "$image")
  if [ -n "$old" ] && [ "$old" != "$new" ]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
}

# --- rabbitmq ---------------------------------------------------------------------------------------------------

# podman's layer cache makes a rebuild with the same base and Containerfile take a second.
build_rabbitmq() {
  say "$RABBITMQ_IMAGE: deploy/rabbitmq.Containerfile FROM $BASE_IMAGE"
  build_replacing "$RABBITMQ_IMAGE" -f deploy/rabbitmq.Containerfile --build-arg "BASE_IMAGE=$BASE_IMAGE" deploy
}

# --- binaries -----------------------------------------------------------------------------------------------------

# One release build for both products, in its own scratch path: --static-swift-stdlib and the traits differ from
# `make bench`'s release build, which would otherwise rebuild each time the other ran.
build_binaries() {
  local flags=(-c release --static-swift-stdlib --scratch-path "$SCRATCH") bin product
  [ -z "$PAYBRIDGE_TRAITS" ] || flags+=(--traits "$PAYBRIDGE_TRAITS")
  for product in paybridge paybridge-sandbox; do
    say "swift build ${flags[*]} --product $product"
    "$SWIFT" build "${flags[@]}" --product "$product" 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] ' \
      || { [ "${PIPESTATUS[0]}" = 0 ] || die "the release build failed"; }
  done
  # The same flags: with others, SwiftPM rewrites the build description and the next build links again (30 s).
  bin=$("$SWIFT" build "${flags[@]}" --show-bin-path)
  check_binaries "$bin/paybridge" "$bin/paybridge-sandbox"
  rm -rf "$CONTEXT"
  mkdir -p "$CONTEXT/prebuilt" "$CONTEXT/deploy"
  cp "$bin/paybridge" "$bin/paybridge-sandbox" "$CONTEXT/prebuilt/"
  cp deploy/paybridge-probe "$CONTEXT/deploy/"
}

# The libraries the runtime stage installs (librabbitmq4 brings libssl3; libtcmalloc-minimal4) or Debian's base has: nothing else may be
# needed, the Swift runtime least of all.
RUNTIME_LIBS='linux-vdso|ld-linux-x86-64|libc|libm|libpthread|libdl|librt|libutil|libgcc_s|libstdc\+\+|libz|librabbitmq|libssl|libcrypto|libtcmalloc_minimal'
check_binaries() {
  local binary needed other
  for binary in "$@"; do
    needed=$(ldd "$binary" | awk '{print $1}' | sed 's|.*/||')
    other=$(grep -Ev "^($RUNTIME_LIBS)\.so" <<<"$needed" || true)
    [ -z "$other" ] || die "$binary needs libraries the runtime image does not have: $(echo $other)"
    say "$(basename "$binary") ($(du -h "$binary" | cut -f1)) needs only $(echo $needed)"
  done
}

# --- paybridge ----------------------------------------------------------------------------------------------------

build_paybridge() {
  [ -x "$CONTEXT/prebuilt/paybridge" ] || die "no binaries in $CONTEXT/prebuilt: run 'bash scripts/images.sh binaries'"
  say "$PAYBRIDGE_IMAGE: deploy/Dockerfile, PAYBRIDGE_BINARIES=prebuilt, FROM $BASE_IMAGE"
  build_replacing "$PAYBRIDGE_IMAGE" -f deploy/Dockerfile --build-arg "RUNTIME_IMAGE=$BASE_IMAGE" \
    --build-arg PAYBRIDGE_BINARIES=prebuilt "$CONTEXT"
  # podman keeps the prebuilt stage's image (the binaries, 350 MB) untagged; remove ours, no one else's.
  podman image prune --force --filter label=org.paybridge.stage=prebuilt >/dev/null
  # Inside the image: every library both binaries load is there.
  local missing
  missing=$(podman run --rm "${PODMAN_LIMITS[@]}" --no-healthcheck --entrypoint /usr/bin/ldd "$PAYBRIDGE_IMAGE" \
    /usr/local/bin/paybridge /usr/local/bin/paybridge-sandbox | grep 'not found' || true)
  [ -z "$missing" ] || die "$PAYBRIDGE_IMAGE lacks libraries: $missing"
}

# --- sizes ------------------------------------------------------------------------------------------------------

sizes() {
  local image
  for image in "$BASE_IMAGE" "$RABBITMQ_IMAGE" "$PAYBRIDGE_IMAGE"; do
    podman image exists "$image" || continue
    printf '%-36s %s\n' "$image" "$(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
  done | tee .build/image-sizes.txt
}

[ "$(id -u)" = 0 ] || die "podman builds and runs the images as root here (rootless podman is not set up): run as root"
mkdir -p .build
case "${1:-all}" in
  all) build_base; build_rabbitmq; build_binaries; build_paybridge; sizes ;;
  base) build_base ;;
  rabbitmq) build_rabbitmq ;;
  binaries) build_binaries ;;
  paybridge) build_paybridge ;;
  sizes) sizes ;;
  *) echo "usage: $0 [all|base|rabbitmq|binaries|paybridge|sizes]" >&2; exit 2 ;;
esac
