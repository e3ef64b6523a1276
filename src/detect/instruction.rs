//! Which template clusters a request joins: where a campaign's instructions
//! live decides what is shared across its accounts.
//!
//! Usually the instructions are in the user turn around a slot, and the
//! user turn's prefix and suffix skeletons are the clusters. A campaign can
//! instead put the instructions in the *system* prompt and send only the bare
//! seed item as the user turn: then no user-turn skeleton is shared, but the
//! system prompt is, with a different user turn on every request. A popular
//! app looks the same (one system prompt, each user's own questions), so the
//! system prompt only stands in for the prefix skeleton when it itself asks
//! for the model's reasoning ([`SYSTEM_ELICITATION_MIN`]), or when the
//! request asks for a long output (`long_output_tokens`) and is not a step
//! of a tool loop: a campaign can word its instructions so that no phrase
//! list knows them (measured: about half of a held-out campaign's tokens
//! were served that way), but it cannot harvest without asking for long
//! answers. A shared system prompt without either is what apps send and
//! joins no cluster. Sharing alone never denies: the score still needs
//! content and machine cadence or address-block crowding, so an app whose
//! users ask for long outputs from their own addresses at their own pace
//! shares a cluster and stays below the limits
//! (`tests/system_prompt_shapes.rs`).

use super::template::TemplateKeys;
use crate::hash::{siphash24, SipKey};

/// System-prompt elicitation from which the system prompt is the template:
/// above an ordinary "step by step" (0.15-0.25), at a "reasoning process" or
/// "chain of thought" (0.45) or two weak phrases together.
pub const SYSTEM_ELICITATION_MIN: f64 = 0.3;

/// Domain keys so a system-prompt owner never collides with a user-turn
/// skeleton, and a short user turn's text hash with a template's.
const SYSTEM_KEY: SipKey = SipKey {
    k0: 0x7379_7374_656d_0006,
    k1: 0x6467_2d74_706c_0006,
};
const SHORT_TEXT_KEY: SipKey = SipKey {
    k0: 0x7368_6f72_7474_0007,
    k1: 0x6467_2d74_706c_0007,
};
const SHAPE_KEY: SipKey = SipKey {
    k0: 0x7072_6f62_7368_0008,
    k1: 0x6467_2d74_706c_0008,
};

/// The clusters one request joins and the text it counts in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owners {
    /// At most two cluster owners (two shared-data slots, as before).
    pub keys: [Option<u64>; 2],
    /// The user turn's hash: distinct texts tell a template from one text.
    pub text: u64,
}

/// Owners from the user turn's tokens and skeletons and, when it carries
/// the instructions, the system prompt's fingerprint; a request that asks
/// for token probabilities also joins the cluster of its probability shape
/// (`params::probability_shape`), in the place of the prefix skeleton (or
/// of the suffix, when the system prompt took the prefix's).
pub fn owners(
    user_tokens: &[u64],
    user: Option<&TemplateKeys>,
    instructing_system: Option<u64>,
    probability_shape: Option<u64>,
) -> Option<Owners> {
    let mut owners = text_owners(user_tokens, user, instructing_system);
    let Some(shape) = probability_shape.map(|s| siphash24(SHAPE_KEY, &s.to_le_bytes())) else {
        return owners;
    };
    let o = owners.get_or_insert(Owners {
        keys: [None, None],
        text: short_text(user_tokens),
    });
    let place = if instructing_system.is_some() { 1 } else { 0 };
    if let Some(k) = o.keys.get_mut(place) {
        *k = Some(shape);
    }
    owners
}

fn text_owners(user_tokens: &[u64], user: Option<&TemplateKeys>, instructing_system: Option<u64>) -> Option<Owners> {
    let system = instructing_system.map(|fp| siphash24(SYSTEM_KEY, &fp.to_le_bytes()));
    match (user, system) {
        (Some(t), None) => Some(Owners {
            keys: [Some(t.prefix), Some(t.suffix)],
            text: t.text,
        }),
        // The user turn is the slot: its prefix is the seed item's start, so
        // the system prompt takes the prefix's place; the suffix stays.
        (Some(t), Some(sys)) => Some(Owners {
            keys: [Some(sys), Some(t.suffix)],
            text: t.text,
        }),
        // Too short for a skeleton ("2+2?"), still a varying slot.
        (None, Some(sys)) => Some(Owners {
            keys: [Some(sys), None],
            text: short_text(user_tokens),
        }),
        (None, None) => None,
    }
}

fn short_text(tokens: &[u64]) -> u64 {
    let mut bytes = [0u8; 8 * super::template::MIN_TOKENS];
    for (chunk, t) in bytes.chunks_exact_mut(8).zip(tokens) {
        chunk.copy_from_slice(&t.to_le_bytes());
    }
    let used = (8 * tokens.len()).min(bytes.len());
    siphash24(SHORT_TEXT_KEY, bytes.get(..used).unwrap_or(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{normalize::token_hashes, template::keys};
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn user_skeletons_unless_the_system_prompt_instructs() {
        let a = token_hashes("Natalia sold clips to 48 of her friends in April, and then half as many in May.");
        let ka = keys(&a, 8);
        let plain = owners(&a, ka.as_ref(), None, None).unwrap();
        let t = ka.clone().unwrap();
        assert_eq!(plain.keys, [Some(t.prefix), Some(t.suffix)]);
        let sys = owners(&a, ka.as_ref(), Some(42), None).unwrap();
        assert_eq!(sys.keys[1], Some(t.suffix));
        assert_ne!(sys.keys[0], Some(t.prefix));
        assert_eq!(sys.text, t.text);
        // Two different items under the same instructing system prompt meet
        // in one cluster with different texts.
        let b = token_hashes("Weng earns $12 an hour for babysitting. Yesterday she did 50 minutes.");
        let other = owners(&b, keys(&b, 8).as_ref(), Some(42), None).unwrap();
        assert_eq!(other.keys[0], sys.keys[0]);
        assert_ne!(other.text, sys.text);
        assert_ne!(
            owners(&b, keys(&b, 8).as_ref(), Some(43), None).unwrap().keys[0],
            sys.keys[0]
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn short_user_turns_count_only_under_an_instructing_system_prompt() {
        let short = token_hashes("2 + 2?");
        assert!(keys(&short, 8).is_none());
        assert_eq!(owners(&short, None, None, None), None);
        let o = owners(&short, None, Some(7), None).unwrap();
        assert!(o.keys[0].is_some() && o.keys[1].is_none());
        let other = owners(&token_hashes("capital of peru?"), None, Some(7), None).unwrap();
        assert_ne!(o.text, other.text);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn probability_requests_share_their_shape_whatever_the_item() {
        let a = token_hashes("Natalia sold clips to 48 of her friends in April, and then half as many in May.");
        let b = token_hashes("Write a haiku about the rain falling on a quiet city at night, please.");
        let (ka, kb) = (keys(&a, 8), keys(&b, 8));
        let oa = owners(&a, ka.as_ref(), None, Some(9)).unwrap();
        let ob = owners(&b, kb.as_ref(), None, Some(9)).unwrap();
        assert_eq!(oa.keys[0], ob.keys[0], "one shape, two items: one cluster");
        assert_eq!(oa.keys[1], ka.map(|k| k.suffix));
        assert_ne!(oa.text, ob.text);
        assert_ne!(owners(&a, None, None, Some(10)).unwrap().keys[0], oa.keys[0]);
        // Under an instructing system prompt the shape takes the suffix's place.
        let sys = owners(&a, keys(&a, 8).as_ref(), Some(42), Some(9)).unwrap();
        assert_eq!(sys.keys[1], oa.keys[0]);
    }
}
