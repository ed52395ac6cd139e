"""Telemetry's names in one place: the GenAI semantic conventions' attributes (gen_ai.*), the
HTTP and URL conventions' that Application Insights reads, and the router's own (router.*)."""

SCOPE = "hybrid_router"
SERVICE_NAME = "hybrid-router"
CAPTURE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# GenAI client metrics (semantic conventions, gen-ai-metrics.md).
TOKEN_USAGE = "gen_ai.client.token.usage"
OPERATION_DURATION = "gen_ai.client.operation.duration"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"

# GenAI semantic conventions (gen_ai.*) and the router's own names.
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
TOKEN_TYPE = "gen_ai.token.type"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_TOP_P = "gen_ai.request.top_p"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM = "gen_ai.system"  # deprecated by gen_ai.provider.name, but the exporter types by it
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
ERROR_TYPE = "error.type"
HTTP_STATUS = "http.response.status_code"
HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
URL_FULL = "url.full"
URL_PATH = "url.path"
URL_SCHEME = "url.scheme"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
CLIENT_ADDRESS = "client.address"
USER_AGENT = "user_agent.original"
ATTEMPT = "router.attempt"
WAIT_BEFORE_S = "router.wait_before_s"
TIER = "router.tier"
DEPLOYMENT = "router.deployment"
DECIDED_BY = "router.decided_by"
SCORE = "router.score"
CACHE_HIT = "router.cache_hit"
GUARD_FAILURE = "router.guard.failure"  # what the guard found wrong in a small tier's answer
CLASSIFIER_MS = "router.classifier_ms"
# the answer started on the small tier while the classifier read: "taken" or "dropped"
GUESS = "router.guess"
REASON = "router.reason"
PROVIDER_NAME = "azure.ai.openai"  # the OpenAI routes (v1, deployments)
PROVIDER_INFERENCE = "azure.ai.inference"  # the Foundry Models route (Model Inference API)
