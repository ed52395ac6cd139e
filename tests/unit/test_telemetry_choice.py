import pytest

from shared import telemetry


@pytest.mark.parametrize(
    ("env", "choice"),
    [
        ({}, "none"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x"}, "azure-monitor"),
        (
            {
                "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": "true",
                "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
            },
            "functions-worker",
        ),
    ],
)
def test_exporter_choice(env: dict[str, str], choice: str) -> None:
    assert telemetry.exporter_for(env) == choice


@pytest.mark.parametrize("on", ["true", "1", "t", "yes", "y", "TRUE", " True "])
def test_every_value_the_worker_takes_as_on_leaves_azure_monitor_to_it(on: str) -> None:
    env = {
        "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": on,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
    }
    assert telemetry.exporter_for(env) == "functions-worker"


@pytest.mark.parametrize("off", ["false", "0", "no", "", "maybe"])
def test_a_value_the_worker_takes_as_off_leaves_azure_monitor_to_the_app(off: str) -> None:
    env = {
        "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": off,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
    }
    assert telemetry.exporter_for(env) == "azure-monitor"


def test_configure_runs_once_per_process() -> None:
    first = telemetry.configure({})
    assert first in ("none", "already")  # function_app may have configured it already
    assert telemetry.configure({"APPLICATIONINSIGHTS_CONNECTION_STRING": "x"}) == "already"


def test_message_content_capture_is_opt_in() -> None:
    assert not telemetry.capture_content({})
    assert telemetry.capture_content({telemetry.CAPTURE_CONTENT: "true"})
