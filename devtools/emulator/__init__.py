"""The Foundry emulator: an offline stand-in for Azure OpenAI / Foundry chat completions."""

from devtools.emulator.app import create_app
from devtools.emulator.config import DeploymentConfig, EmulatorConfig, load_config

__all__ = ["DeploymentConfig", "EmulatorConfig", "create_app", "load_config"]
