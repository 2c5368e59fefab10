#!/usr/bin/env bash
# Builds the pinned toolchain from the Go module proxy into .tools/:
#   .tools/bin/tofu                                   OpenTofu (tools/tofu/go.mod) — or a link to an installed
#                                                     binary that fits (see below), so nothing is compiled
#   .tools/bin/terraform-provider-openstack_vX.Y.Z    OpenStack provider (tools/provider/go.mod)
#   .tools/bin/gotestsum                              test runner with JUnit output
#   .tools/mirror/<registry>/...                      filesystem mirror of the provider (both registry hosts)
#   .tools/tofurc                                     CLI config that points OpenTofu at the mirror only
# Each tool is skipped when the binary already reports the pinned version.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin
TOFU_VERSION=1.12.6
PROVIDER_VERSION=3.4.0
GOTESTSUM_VERSION=1.13.0
export CGO_ENABLED=0 GOFLAGS=-mod=readonly
mkdir -p "$BIN"
T0=$SECONDS
say() { printf '[tools %4ds] %s\n' $((SECONDS - T0)) "$*"; }

# OpenTofu: a binary is used as it is when it reports (checked, not assumed) OpenTofu $TOFU_VERSION or
# Terraform >= 1.6.0, < 2.0.0 (the modules' required_version); the same rule as helpers/tf.FindTools.
# Order: $CLOUDPULSE_TOFU (the user's choice: an error if it does not fit), the .tools/bin/tofu already
# there, tofu then terraform on PATH (linked as .tools/bin/tofu); only when none fits is OpenTofu compiled.
# CLOUDPULSE_TOOLS_PINNED=1 (make test): only the pinned OpenTofu fits — the project's own tests prove the
# toolchain it pins (state encryption included), whatever else the machine has installed.
PINNED_ONLY=${CLOUDPULSE_TOOLS_PINNED:-0}
describe() { # prints "<product> <version>" of binary $1, or nothing
  local v p
  # a TF_CLI_CONFIG_FILE naming a missing file adds a warning before the product line: not needed here
  export TF_CLI_CONFIG_FILE=
  v=$("$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p') || true
  p=$("$1" version 2>/dev/null | sed -n '1s/^\([A-Za-z]*\) v.*/\1/p') || true
  [ -n "$v" ] && [ -n "$p" ] && echo "$p $v"
}
fits() { # product version
  case $1 in
    OpenTofu) [ "$2" = "$TOFU_VERSION" ] ;;
    Terraform) [ "$PINNED_ONLY" = 1 ] && return 1
      local v=${2%%[-+]*}
      [ "$(printf '%s\n' 1.6.0 "$v" | sort -V | head -1)" = 1.6.0 ] &&
        [ "$(printf '%s\n' "$v" 2.0.0 | sort -V | head -1)" = "$v" ] && [ "$v" != 2.0.0 ] ;;
    *) false ;;
  esac
}
on_path() { # first executable $1 on PATH outside .tools/bin
  local d IFS=:
  for d in $PATH; do
    [ "$d" = "$BIN" ] && continue
    [ -n "$d" ] && [ -x "$d/$1" ] && [ ! -d "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  return 1
}
WANT=${CLOUDPULSE_TOFU:-}
[ "$WANT" = "$BIN/tofu" ] && WANT= # the Makefile's default, not a choice
if [ -n "$WANT" ]; then
  d=$(describe "$WANT") || true
  if [ -z "$d" ] || ! fits "${d% *}" "${d#* }"; then
    echo "tools: CLOUDPULSE_TOFU=$WANT is ${d:-not OpenTofu or Terraform}: use OpenTofu $TOFU_VERSION or Terraform >= 1.6.0, < 2.0.0, or unset it" >&2
    exit 1
  fi
  say "using $d at $WANT (CLOUDPULSE_TOFU)"
elif d=$(describe "$BIN/tofu") && fits "${d% *}" "${d#* }"; then
  say "$d ready at $BIN/tofu$( [ -L "$BIN/tofu" ] && echo " -> $(readlink "$BIN/tofu")")"
else
  found=
  for name in tofu terraform; do
    if p=$(on_path $name); then
      d=$(describe "$p") || true
      if [ -n "$d" ] && fits "${d% *}" "${d#* }"; then found=$p; break; fi
      say "$name on PATH ($p) is ${d:-not OpenTofu or Terraform}: not used"
    fi
  done
  if [ -n "$found" ]; then
    ln -sfn "$found" "$BIN/tofu"
    say "using $d at $found (linked as $BIN/tofu): nothing to compile"
  else
    say "building tofu $TOFU_VERSION (cold: ~10 min on 2 cores)"
    (cd "$ROOT/tools/tofu" && go build -trimpath \
      -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
      -o "$BIN/tofu.tmp" github.com/opentofu/opentofu/cmd/tofu)
    mv -f "$BIN/tofu.tmp" "$BIN/tofu"
    say "tofu built"
  fi
fi

PROV=$BIN/terraform-provider-openstack_v$PROVIDER_VERSION
PROV_PKG=github.com/terraform-provider-openstack/terraform-provider-openstack/v3
if [ -x "$PROV" ] && go version -m "$PROV" 2>/dev/null | grep -q "mod[[:space:]]*${PROV_PKG}[[:space:]]*v$PROVIDER_VERSION\|dep[[:space:]]*${PROV_PKG}[[:space:]]*v$PROVIDER_VERSION"; then
  say "provider $PROVIDER_VERSION already built"
else
  say "building terraform-provider-openstack $PROVIDER_VERSION (cold: ~2 min)"
  (cd "$ROOT/tools/provider" && go build -trimpath \
    -ldflags "-s -w -X $PROV_PKG/openstack.version=$PROVIDER_VERSION" \
    -o "$PROV.tmp" "$PROV_PKG")
  mv "$PROV.tmp" "$PROV"
  say "provider built"
fi

for host in registry.opentofu.org registry.terraform.io; do
  d=$TOOLS/mirror/$host/terraform-provider-openstack/openstack/$PROVIDER_VERSION/linux_amd64
  mkdir -p "$d"
  cmp -s "$PROV" "$d/$(basename "$PROV")" || cp "$PROV" "$d/"
done
cat > "$TOOLS/tofurc.tmp" <<RC
# Written by scripts/tools.sh: OpenTofu installs the OpenStack provider only from the local mirror.
provider_installation {
  filesystem_mirror {
    path    = "$TOOLS/mirror"
    include = ["registry.opentofu.org/terraform-provider-openstack/openstack", "registry.terraform.io/terraform-provider-openstack/openstack"]
  }
  direct {
    exclude = ["registry.opentofu.org/terraform-provider-openstack/openstack", "registry.terraform.io/terraform-provider-openstack/openstack"]
  }
}
RC
mv "$TOOLS/tofurc.tmp" "$TOOLS/tofurc"

if "$BIN/gotestsum" --version 2>/dev/null | grep -q "v$GOTESTSUM_VERSION"; then
  say "gotestsum $GOTESTSUM_VERSION already built"
else
  say "building gotestsum $GOTESTSUM_VERSION"
  GOBIN=$BIN GOFLAGS='' go install -trimpath -ldflags "-s -w" gotest.tools/gotestsum@v$GOTESTSUM_VERSION
fi
say "tools ready in $BIN"
