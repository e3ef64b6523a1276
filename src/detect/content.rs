//! The first step of an assessment: what the request's own body says
//! (elicitation phrases, extraction-shaped parameters) and which template
//! clusters it joins. Work proportional to the inspected body; no shared
//! data.

use super::config::DetectionSettings;
use super::instruction::{self, Owners};
use super::{continuation, elicitation, normalize, params, template};
use crate::api::RequestView;
use crate::hash::fingerprint;

/// The content signals of one request; all zero when the body could not be
/// parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Content {
    /// Elicitation in the system prompt or the last user turn, in [0, 1].
    pub elicitation: f64,
    /// Extraction-shaped generation parameters, in [0, 1].
    pub extraction: f64,
    /// The request asked for a long output (`long_output_tokens`).
    pub long: bool,
    /// The template clusters the request joins, if any.
    pub owners: Option<Owners>,
    /// Greedy sampling of one answer (temperature 0, one sample): sent
    /// again, the same item gives the same answer, so re-sending a closed
    /// item set harvests nothing new.
    pub deterministic: bool,
    /// Its conversation key when it carries tool results (`continuation`).
    pub conversation: u64,
    /// It offers the model tools or carries tool results: an agent's call.
    pub tool_use: bool,
}

/// Reads the content signals from `view` (`None`: an unparsed body).
pub fn read(view: Option<&RequestView>, s: &DetectionSettings) -> Content {
    let Some(view) = view else {
        return Content::default();
    };
    let user = view.last_user_text();
    let system_elicit = elicitation::elicitation(&[&view.system], &s.extra_phrases);
    let user_elicit = elicitation::elicitation(&[user], &s.extra_phrases);
    let tokens = normalize::token_hashes(user);
    let long = view.params.max_output_tokens.is_some_and(|m| m >= s.long_output_tokens);
    let conversation = continuation::key(view);
    // The system prompt is the template when it asks for reasoning, or when
    // a one-shot request under it asks for a long output (instructions in
    // words no phrase list knows, over bare items: issue 7's held-out
    // leak; `instruction`).
    let instructing = (system_elicit >= instruction::SYSTEM_ELICITATION_MIN || (long && conversation == 0))
        .then(|| system_fingerprint(view))
        .flatten();
    Content {
        elicitation: 1.0 - (1.0 - system_elicit) * (1.0 - user_elicit),
        extraction: params::extraction(&view.params, s.long_output_tokens),
        long,
        deterministic: view.params.temperature == Some(0.0) && view.params.samples.unwrap_or(1) <= 1,
        conversation,
        tool_use: view.params.tools > 0 || conversation != 0,
        owners: instruction::owners(
            &tokens,
            template::keys(&tokens, s.skeleton_tokens).as_ref(),
            instructing,
            params::probability_shape(&view.params),
        ),
    }
}

/// Fingerprint of a request's system prompt: kept apart from the user-turn
/// templates, since thousands of an app's users share one system prompt.
pub fn system_fingerprint(view: &RequestView) -> Option<u64> {
    (!view.system.is_empty()).then(|| fingerprint(&normalize::lower_collapsed_bytes(&view.system, 64 * 1024)))
}
