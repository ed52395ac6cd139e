"""OpenTelemetry for the router, by concern: `setup` (exporters, once per process; the tracer and
the metrics), `names` (every attribute name, in one place) and `spans` (the request's span and
each attempt's, as Application Insights reads them). Their names are re-exported here, so that
callers write `telemetry.TIER` or `telemetry.request_span` whichever module holds it."""

from shared.telemetry.names import *  # noqa: F403
from shared.telemetry.setup import *  # noqa: F403
from shared.telemetry.spans import *  # noqa: F403
