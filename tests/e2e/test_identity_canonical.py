"""One key is one identity however it is spelled (issue 10): in the real
Envoy, Gemini's `?key=` percent-encoded, the same key in `x-goog-api-key`,
and a Bearer token behind an odd-cased, tab-separated scheme all count
against one identity's static limit."""

from client import PIPES_ONLY, away_from_minute_boundary, post

LIMIT = 2
PLUGIN_CONFIG = {**PIPES_ONLY, "mode": "enforce", "identity": {"secret": "e2e-canon-secret"},
                 "limits": {"identity_requests_per_minute": LIMIT}}
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}


def test_percent_encoded_query_key_is_the_same_identity(envoy):
    away_from_minute_boundary()
    base = "/v1beta/models/gemini-2.5-flash:generateContent"
    statuses = [
        post(envoy.port, f"{base}?key=AIzaCanon-1", GEMINI).status,
        post(envoy.port, f"{base}?%6bey=%41IzaCanon%2d1", GEMINI).status,
        post(envoy.port, base, GEMINI, {"x-goog-api-key": "AIzaCanon-1"}).status,
    ]
    assert statuses == [200, 200, 429]


def test_bearer_scheme_spelling_is_the_same_identity(envoy):
    away_from_minute_boundary()
    statuses = [
        post(envoy.port, "/v1/chat/completions", CHAT, {"authorization": "Bearer sk-canon-2"}).status,
        post(envoy.port, "/v1/chat/completions", CHAT, {"authorization": "BEARER\tsk-canon-2"}).status,
        post(envoy.port, "/v1/chat/completions", CHAT, {"authorization": "bearer   sk-canon-2"}).status,
    ]
    assert statuses == [200, 200, 429]
