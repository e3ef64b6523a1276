//! [`Engine::begin_from`], the glue's headers phase: the address and the
//! path are each read once, and the exchange is the one [`Engine::begin`]
//! (reading both again) gives.

use super::*;
use crate::identity::client_addr;
use crate::metrics::NoMetrics;
use wasm_bindgen_test::wasm_bindgen_test;

fn meta(path: &str, xff: Option<&str>) -> RequestMeta {
    let mut headers = vec![("authorization".to_owned(), "Bearer sk-1".to_owned())];
    headers.extend(xff.map(|v| ("x-forwarded-for".to_owned(), v.to_owned())));
    RequestMeta {
        method: "POST".into(),
        path: path.into(),
        headers,
        source_ip: Some("10.0.0.1".parse().unwrap()),
        ..RequestMeta::default()
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn the_glues_headers_phase_is_begin() {
    let paths = [
        "/v1/chat/completions",
        "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "/v1beta/tunedModels/my%2Dmodel:generateContent",
        "/v1/models",
    ];
    for hops in [0, 1, 2] {
        let config = format!(r#"{{"identity": {{"trusted_xff_hops": {hops}}}}}"#);
        let engine = Engine::from_config(config.as_bytes()).unwrap();
        for path in paths {
            for xff in [None, Some("192.0.2.1"), Some("198.51.100.7, 192.0.2.1"), Some("bad")] {
                let before = engine.begin(meta(path, xff), &NoMetrics);
                let mut m = meta(path, xff);
                let peer = m.source_ip.take();
                let ip = client_addr::client_ip_asking_peer(&mut m, hops, || peer);
                let after = engine.begin_from(m, ip, &NoMetrics);
                let key = |ex: &Exchange| (ex.api, ex.identity.clone(), ex.path_model.clone());
                assert_eq!(
                    after.as_ref().map(key),
                    before.as_ref().map(key),
                    "{path} {xff:?} {hops}"
                );
                // The route's model is the one the path names.
                if let Some(ex) = &after {
                    assert_eq!(ex.path_model, api::model_from_path(path), "{path}");
                }
            }
        }
    }
}
