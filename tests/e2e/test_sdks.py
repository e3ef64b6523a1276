"""The official Python SDKs (`openai` incl. `AzureOpenAI`, `anthropic`,
`google-genai`) against Envoy with the module, plain and streaming.

- Shadow mode: every call succeeds, even one the filter would deny.
- Enforce mode: a denial surfaces as the SDK's own typed error carrying the
  filter's message, with `Retry-After` on a throttle.
- Retry steering: the filter answers `x-should-retry`, which the OpenAI and
  Anthropic clients obey. A throttle whose `Retry-After` is at most
  `SDK_RETRY_MAX_SECS` is retried by the client on its own budget (2 retries
  by default); a longer one, and every block, fail at once. google-genai
  does not retry unless the application configures `retry_options`.

The number of attempts a client made is read from Envoy's own counters
(`decision.throttle`), never from timing.
"""

from __future__ import annotations

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from client import PIPES_ONLY

BLOCK = "block-me-sdk"
THROTTLE = "slow-me-sdk"
# Mirrors src/engine/reply.rs: the longest Retry-After the filter lets an
# SDK wait out on its own.
SDK_RETRY_MAX_SECS = 10
OPENAI_DEFAULT_RETRIES = 2
ANTHROPIC_DEFAULT_RETRIES = 2


def plugin_config(mode: str, retry_after: int = 60) -> dict:
    return {
        **PIPES_ONLY,
        "mode": mode,
        "identity": {"secret": "e2e-secret"},
        "rules": [
            {"phrases": [BLOCK], "action": "block"},
            {"phrases": [THROTTLE], "action": "throttle"},
        ],
        "response": {"retry_after_secs": retry_after},
    }


@pytest.fixture(scope="module")
def shadow(envoy_factory):
    return envoy_factory(plugin_config("shadow"))


@pytest.fixture(scope="module")
def enforce_short(envoy_factory):
    """Throttles with a Retry-After short enough for the SDKs to wait out."""
    return envoy_factory(plugin_config("enforce", retry_after=1))


@pytest.fixture(scope="module")
def enforce_long(envoy_factory):
    """Throttles with a Retry-After past what the filter lets SDKs wait."""
    return envoy_factory(plugin_config("enforce", retry_after=45))


def base(envoy) -> str:
    return f"http://127.0.0.1:{envoy.port}"


def openai_client(envoy, **kw) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-sdk-openai", base_url=base(envoy) + "/v1", timeout=30, **kw)


def azure_client(envoy, **kw) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        api_key="azure-sdk-key", azure_endpoint=base(envoy), api_version="2024-10-21", timeout=30, **kw
    )


def anthropic_client(envoy, **kw) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-sdk", base_url=base(envoy), timeout=30, **kw)


def genai_client(envoy, retry: genai_types.HttpRetryOptions | None = None) -> genai.Client:
    opts = genai_types.HttpOptions(base_url=base(envoy), timeout=30_000, retry_options=retry)
    return genai.Client(api_key="gemini-sdk-key", http_options=opts)


# --- one call per SDK and style; each returns the text it got back ---------


def openai_chat(client, text, stream=False):
    # Azure names a deployment where OpenAI names a model.
    model = "d1" if isinstance(client, openai.AzureOpenAI) else "gpt-4o"
    msgs = [{"role": "user", "content": text}]
    if not stream:
        return client.chat.completions.create(model=model, messages=msgs).choices[0].message.content
    out = client.chat.completions.create(model=model, messages=msgs, stream=True)
    return "".join(c.choices[0].delta.content or "" for c in out if c.choices)


def openai_responses(client, text, stream=False):
    if not stream:
        return client.responses.create(model="gpt-4o", input=text).output_text
    out = client.responses.create(model="gpt-4o", input=text, stream=True)
    return "".join(e.delta for e in out if e.type == "response.output_text.delta")


def anthropic_messages(client, text, stream=False):
    kw = {"model": "claude-opus-4-1", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    if not stream:
        return client.messages.create(**kw).content[0].text
    with client.messages.stream(**kw) as s:
        return "".join(s.text_stream)


def gemini_generate(client, text, stream=False):
    if not stream:
        return client.models.generate_content(model="gemini-2.0-flash", contents=text).text
    chunks = client.models.generate_content_stream(model="gemini-2.0-flash", contents=text)
    return "".join(c.text or "" for c in chunks)


CALLS = [
    ("openai-chat", openai_client, openai_chat),
    ("openai-responses", openai_client, openai_responses),
    ("azure-chat", azure_client, openai_chat),
    ("anthropic", anthropic_client, anthropic_messages),
    ("gemini", genai_client, gemini_generate),
]
IDS = [c[0] for c in CALLS]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("label,make,call", CALLS, ids=IDS)
def test_shadow_every_call_succeeds(shadow, label, make, call, stream):
    client = make(shadow)
    for phrase in ("hello there", BLOCK, THROTTLE):
        text = call(client, f"please {phrase} now", stream=stream)
        assert "stub upstream" in text, (label, phrase, text)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("label,make,call", CALLS, ids=IDS)
def test_enforce_allowed_call_succeeds(enforce_long, label, make, call, stream):
    assert "stub upstream" in call(make(enforce_long), "a normal question", stream=stream)


def denial(fn):
    """The exception `fn` raised (it must raise)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is asserted
        return e
    raise AssertionError("the call was not denied")


def attempts(envoy, action, fn):
    """(exception, how many requests the filter denied with `action` for it)."""
    before = envoy.counter(f"decision.{action}")
    err = denial(fn)
    return err, envoy.counter(f"decision.{action}") - before


OPENAI_LIKE = [c for c in CALLS if c[0].startswith(("openai", "azure"))]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("label,make,call", OPENAI_LIKE, ids=[c[0] for c in OPENAI_LIKE])
def test_openai_denials_are_typed(enforce_long, label, make, call, stream):
    client = make(enforce_long)
    err, n = attempts(enforce_long, "block", lambda: call(client, f"x {BLOCK}", stream=stream))
    assert isinstance(err, openai.PermissionDeniedError), repr(err)
    assert err.status_code == 403 and n == 1
    assert err.body["message"] and err.body["message"] in err.message
    assert err.response.headers["x-should-retry"] == "false"

    err, n = attempts(enforce_long, "throttle", lambda: call(client, f"x {THROTTLE}", stream=stream))
    assert isinstance(err, openai.RateLimitError), repr(err)
    assert err.body["message"] and err.body["message"] in err.message
    assert int(err.response.headers["retry-after"]) > SDK_RETRY_MAX_SECS
    assert err.response.headers["x-should-retry"] == "false"
    assert n == 1, "the client retried a throttle it was told not to retry"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_anthropic_denials_are_typed(enforce_long, stream):
    client = anthropic_client(enforce_long)
    err, n = attempts(enforce_long, "block", lambda: anthropic_messages(client, f"x {BLOCK}", stream=stream))
    assert isinstance(err, anthropic.PermissionDeniedError), repr(err)
    assert err.status_code == 403 and n == 1
    assert err.body["error"]["message"] in err.message
    assert err.response.headers["x-should-retry"] == "false"

    err, n = attempts(enforce_long, "throttle", lambda: anthropic_messages(client, f"x {THROTTLE}", stream=stream))
    assert isinstance(err, anthropic.RateLimitError), repr(err)
    assert err.body["error"]["message"] in err.message
    assert int(err.response.headers["retry-after"]) > SDK_RETRY_MAX_SECS
    # The Anthropic client would otherwise sleep the whole Retry-After (it
    # has no cap), twice, before failing.
    assert err.response.headers["x-should-retry"] == "false"
    assert n == 1


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_gemini_denials_are_typed(enforce_long, stream):
    client = genai_client(enforce_long)
    err, n = attempts(enforce_long, "block", lambda: gemini_generate(client, f"x {BLOCK}", stream=stream))
    assert isinstance(err, genai_errors.ClientError), repr(err)
    assert err.code == 403 and err.status == "PERMISSION_DENIED" and n == 1
    assert err.message and err.message in str(err)

    err, n = attempts(enforce_long, "throttle", lambda: gemini_generate(client, f"x {THROTTLE}", stream=stream))
    assert isinstance(err, genai_errors.ClientError), repr(err)
    assert err.code == 429 and err.status == "RESOURCE_EXHAUSTED" and n == 1
    assert int(err.response.headers["retry-after"]) > SDK_RETRY_MAX_SECS


def test_short_throttle_is_retried_on_the_sdk_budget(enforce_short):
    """Retry-After of 1 s: the filter says `x-should-retry: true`; the
    OpenAI and Anthropic clients wait it out and retry their default two
    times, then raise the typed error."""
    oc = openai_client(enforce_short)
    err, n = attempts(enforce_short, "throttle", lambda: openai_chat(oc, f"x {THROTTLE}"))
    assert isinstance(err, openai.RateLimitError)
    assert err.response.headers["retry-after"] == "1"
    assert err.response.headers["x-should-retry"] == "true"
    assert n == 1 + OPENAI_DEFAULT_RETRIES

    ac = anthropic_client(enforce_short)
    err, n = attempts(enforce_short, "throttle", lambda: anthropic_messages(ac, f"x {THROTTLE}"))
    assert isinstance(err, anthropic.RateLimitError)
    assert n == 1 + ANTHROPIC_DEFAULT_RETRIES

    # An application may choose no retries at all.
    no_retries = openai_client(enforce_short, max_retries=0)
    err, n = attempts(enforce_short, "throttle", lambda: openai_chat(no_retries, f"x {THROTTLE}"))
    assert isinstance(err, openai.RateLimitError) and n == 1


def test_short_block_is_never_retried(enforce_short):
    oc = openai_client(enforce_short)
    err, n = attempts(enforce_short, "block", lambda: openai_chat(oc, f"x {BLOCK}"))
    assert isinstance(err, openai.PermissionDeniedError) and n == 1
    assert err.response.headers["x-should-retry"] == "false"


def test_gemini_retry_options_retry_a_throttle_on_their_own_schedule(enforce_short):
    """google-genai ignores `x-should-retry` and `Retry-After`: with
    `retry_options` it retries 429 up to `attempts` times."""
    retry = genai_types.HttpRetryOptions(attempts=2, initial_delay=0.1, max_delay=0.2, jitter=0)
    client = genai_client(enforce_short, retry=retry)
    err, n = attempts(enforce_short, "throttle", lambda: gemini_generate(client, f"x {THROTTLE}"))
    assert isinstance(err, genai_errors.ClientError) and err.code == 429
    assert n == 2
