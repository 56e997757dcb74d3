//! The cluster the records are built from, kept between steps where records come from a model
//! ([`super::model`]) rather than straight from each document: the last poll's model in poll mode
//! (so that a poll that differs in a few tasks is an edit of the served snapshot, not a rebuild), or
//! the [`Streamer`]'s, which events edit between polls, in stream mode. What changed since the last
//! publish is taken from here ([`Cluster::take_changes`]); what a poll changes is the refresher's to
//! work out ([`Model::changes_to`]) before [`Cluster::polled`] replaces the model.

use std::time::Instant;

use super::model::{Changed, Model};
use super::stream::Streamer;

/// Where the model comes from.
// One per refresher, held for its life: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(super) enum Cluster {
    /// Poll mode: the model of the last poll's document.
    Polled(Model),
    /// Stream mode: the streamer's model, which polls replace and events edit.
    Streamed(Streamer),
}

impl Cluster {
    /// The model records are built from.
    pub(super) fn model(&self) -> &Model {
        match self {
            Cluster::Polled(model) => model,
            Cluster::Streamed(streamer) => streamer.model(),
        }
    }

    /// What events changed since the last take (nothing in poll mode: only polls change its model).
    pub(super) fn take_changes(&mut self) -> Changed {
        match self {
            Cluster::Polled(_) => Changed::Nothing,
            Cluster::Streamed(streamer) => streamer.take_changes(),
        }
    }

    /// A poll's document (as a model, from `state_url`) is the truth now.
    pub(super) fn polled(&mut self, model: Model, state_url: &str, now: Instant) {
        match self {
            Cluster::Polled(old) => *old = model,
            Cluster::Streamed(streamer) => streamer.polled(model, state_url, now),
        }
    }

    /// The event subscription, in stream mode.
    pub(super) fn streamer(&mut self) -> Option<&mut Streamer> {
        match self {
            Cluster::Polled(_) => None,
            Cluster::Streamed(streamer) => Some(streamer),
        }
    }

    /// What the model is, for the log: "the last poll" or "the event stream's model".
    pub(super) fn describe(&self) -> &'static str {
        match self {
            Cluster::Polled(_) => "the last poll",
            Cluster::Streamed(_) => "the event stream's model",
        }
    }
}
