#!/usr/bin/env bash
# Static checks of every Terraform module and fixture, offline:
# `tofu fmt -check -recursive`, then `tofu init -backend=false` + `tofu validate`
# in a temporary copy of the tree (so no .terraform lands in the repository).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOFU=${CLOUDPULSE_TOFU:-$ROOT/.tools/bin/tofu}
export TF_CLI_CONFIG_FILE=${CLOUDPULSE_TOFURC:-$ROOT/.tools/tofurc} TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
[ -x "$TOFU" ] || { echo "tf-check: $TOFU is missing: run make tools" >&2; exit 1; }
cd "$ROOT"
dirs=$(for d in modules/*/ fixtures/*/; do ls "$d"*.tf >/dev/null 2>&1 && echo "${d%/}"; done)
echo "tf-check: fmt"
"$TOFU" fmt -check -recursive -diff modules fixtures
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r modules fixtures "$tmp"/ 2>/dev/null || cp -r fixtures "$tmp"/
find "$tmp" \( -name .terraform -o -name .terraform.lock.hcl -o -name '*.tfstate*' \) -prune -exec rm -rf {} +
fail=0
for d in $dirs; do
  if (cd "$tmp/$d" && "$TOFU" init -backend=false -input=false -no-color >init.log 2>&1 && "$TOFU" validate -no-color >validate.log 2>&1); then
    echo "tf-check: ok   $d"
  else
    echo "tf-check: FAIL $d"; cat "$tmp/$d/init.log" "$tmp/$d/validate.log" 2>/dev/null | tail -30; fail=1
  fi
done
exit $fail
