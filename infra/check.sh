#!/usr/bin/env bash
# Static security checks for the infrastructure and the pipelines, offline: checkov over the Bicep
# in infra/, the GitHub workflows and azure-pipelines.yml.
#
# checkov lives in its own venv (.venv-checkov, gitignored): its pins conflict with the app's.
# Fails when checkov reports a failed check, a parse error (checkov itself exits 0 on those), a
# skip without a reason, or when it scanned no Bicep at all.
#
# Usage: bash infra/check.sh   (from anywhere; 10-30 s, plus 1-2 min the first time: venv)
# Env:   CHECKOV_PYTHON  interpreter for the venv (default: python3.11, else python3)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

lock="$repo_root/infra/checkov-requirements.txt"
venv="$repo_root/.venv-checkov"
stamp="$venv/.checkov-lock.sha256"
python_bin="${CHECKOV_PYTHON:-$(command -v python3.11 || command -v python3)}"
lock_sha="$(sha256sum "$lock" | cut -d' ' -f1)"

# (Re)create the venv when it is missing or was built from another lock file.
if [[ ! -x "$venv/bin/checkov" || "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]]; then
  echo "check.sh: installing checkov into $venv" >&2
  rm -rf "$venv"
  "$python_bin" -m venv "$venv"
  # The lock pins the whole closure: --no-deps skips resolution. Keep pip's .pyc pass: with
  # PYTHONDONTWRITEBYTECODE set (as here) every run would otherwise recompile checkov.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    -r "$lock" 2> >(grep -v "is neither a file nor a directory" >&2)
  echo "$lock_sha" >"$stamp"
fi

report="$(mktemp)"
trap 'rm -f "$report"' EXIT

# BC_SKIP_MAPPING / --skip-download: no calls to the vendor's API (the checks are bundled).
# Only these frameworks, so the app code and the venvs are not scanned.
BC_SKIP_MAPPING=TRUE \
  "$venv/bin/checkov" \
  --directory . \
  --framework bicep github_actions azure_pipelines \
  --skip-path '(^|/)\.venv' --skip-path '(^|/)node_modules/' --skip-path '(^|/)\.git/' \
  --skip-download \
  --output json --compact \
  >"$report" || true # checkov's exit code is judged below, from its report

"$venv/bin/python" - "$report" <<'PY'
"""Judge a checkov JSON report: zero failed checks, zero parse errors, reasons on every skip."""

import json
import sys
from pathlib import Path

text = Path(sys.argv[1]).read_text()
decoder = json.JSONDecoder()
reports: list[dict] = []
pos = 0
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    doc, pos = decoder.raw_decode(text, pos)
    reports.extend(doc if isinstance(doc, list) else [doc])

problems: list[str] = []
by_type = {r.get("check_type"): r for r in reports}
if "bicep" not in by_type:
    problems.append("checkov produced no bicep report (nothing scanned?)")
elif by_type["bicep"]["summary"].get("resource_count", 0) == 0:
    problems.append("checkov found no Bicep resources in infra/")

for r in reports:
    kind = r.get("check_type")
    summary = r.get("summary", {})
    results = r.get("results", {})
    print(f"checkov {kind}: {summary.get('passed', 0)} passed, {summary.get('failed', 0)} failed, "
          f"{summary.get('skipped', 0)} skipped, {summary.get('parsing_errors', 0)} parse errors")
    if summary.get("parsing_errors", 0):
        problems.append(f"{kind}: parse errors in {results.get('parsing_errors')}")
    for c in results.get("failed_checks", []):
        problems.append(f"{kind}: {c['check_id']} {c['check_name']} ({c['file_path']} {c['resource']})")
    for c in results.get("skipped_checks", []):
        reason = (c.get("check_result") or {}).get("suppress_comment") or ""
        # checkov fills in "No comment provided" for a bare checkov:skip=ID.
        if not reason.strip() or reason.strip() == "No comment provided":
            problems.append(f"{kind}: {c['check_id']} skipped without a reason ({c['file_path']})")

for p in problems:
    print(f"FAIL {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
