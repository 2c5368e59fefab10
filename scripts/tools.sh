#!/usr/bin/env bash
# Builds the pinned toolchain from the Go module proxy into .tools/:
#   .tools/bin/tofu                                   OpenTofu (tools/tofu/go.mod)
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

if [ "$("$BIN/tofu" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')" = "$TOFU_VERSION" ]; then
  say "tofu $TOFU_VERSION already built"
else
  say "building tofu $TOFU_VERSION (cold: ~10 min on 2 cores)"
  (cd "$ROOT/tools/tofu" && go build -trimpath \
    -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
    -o "$BIN/tofu.tmp" github.com/opentofu/opentofu/cmd/tofu)
  mv "$BIN/tofu.tmp" "$BIN/tofu"
  say "tofu built"
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
