"""Identity never leaks: neither the credentials a client sends nor its
prompt text appear in Envoy's log (with the plugin's debug logging on) or
the access log, whatever the filter decides about the request."""

import base64
import json

from client import away_from_minute_boundary, post

SECRET_KEY = "sk-live-LEAKCHECK-9f8e7d6c5b4a3210"
GOOG_KEY = "AIzaLEAKCHECKgoogkey0123456789"
QUERY_KEY = "AIzaLEAKCHECKquerykey987654321"
JWT_SUB = "user-LEAKCHECK-subject"
PROMPT = "confidential-prompt-LEAKCHECK about the merger"
BLOCK = "blockword-e2e"

PLUGIN_CONFIG = {
    "mode": "enforce",
    "identity": {"secret": "e2e-identity-secret-hmac", "sources": ["authorization", "x-goog-api-key", "x-api-key", "query_key"]},
    "rules": [{"phrases": [BLOCK], "action": "block"}],
    "limits": {"identity_requests_per_minute": 3},
}


def chat(text):
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}


def jwt(sub: str) -> str:
    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none'})}.{b64({'sub': sub})}.sig"


def test_credentials_and_prompts_are_not_logged(envoy):
    auth = {"authorization": f"Bearer {SECRET_KEY}"}
    away_from_minute_boundary()
    statuses = [post(envoy.port, "/v1/chat/completions", chat(f"{PROMPT} #{i}"), auth).status for i in range(5)]
    # Past the limit every request is denied (detection, on here, may only
    # raise a verdict, so earlier ones may be tagged or denied too).
    assert all(s in (429, 403) for s in statuses[3:]), statuses
    assert post(envoy.port, "/v1/chat/completions", chat(f"{PROMPT} {BLOCK}"), {"x-api-key": SECRET_KEY}).status == 403
    gemini = {"contents": [{"parts": [{"text": PROMPT}]}]}
    assert post(envoy.port, "/v1beta/models/g:generateContent", gemini, {"x-goog-api-key": GOOG_KEY}).status == 200
    # Gemini clients may send the key in the query string.
    assert post(envoy.port, f"/v1beta/models/g:generateContent?key={QUERY_KEY}", gemini).status == 200
    bad = b'{"messages": [{"content": "' + PROMPT.encode() + b'"'
    post(envoy.port, "/v1/chat/completions", bad, {"authorization": f"Bearer {jwt(JWT_SUB)}"})
    # One access log line per request: the 9 above and the readiness probe.
    assert len(envoy.access_log_lines(at_least=10)) >= 10, envoy.access_log()
    for name, text in (("envoy log", envoy.log()), ("access log", envoy.access_log())):
        for needle in ("LEAKCHECK", SECRET_KEY, GOOG_KEY, QUERY_KEY, PROMPT, "confidential-prompt", "e2e-identity-secret"):
            assert needle not in text, f"{needle!r} found in the {name}"
    assert "identity=" in envoy.access_log()
