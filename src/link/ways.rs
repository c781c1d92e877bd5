//! The ways in that `edge` finds, as the index keeps them for every fact that needs them: by
//! the resource they reach, each with its chain, whether it is open, and what it comes from.
//! Data only; finding them is `edge`'s.

use std::collections::HashMap;

use super::net::RangeSet;
use crate::model::*;

/// One way in through a load balancer.
#[derive(Clone, Debug)]
pub(super) struct Way {
    pub(super) text: String,
    /// `Some(true)`: open; `None`: not known to be closed.
    pub(super) open: Option<bool>,
    /// The internet sources the load balancer admits on the listener (for an origin's
    /// "Cloudflare only" judgement).
    pub(super) sources: Option<RangeSet>,
    /// The API in front, when the way starts at one: who can call it stands for the sources.
    pub(super) front: Option<Origin>,
    /// What the target sees the traffic come from when nothing on the way filters it (a network
    /// load balancer without groups passes on its senders).
    pub(super) upstream: Upstream,
}

/// The security groups and subnets traffic comes from, as a target's ingress names them.
#[derive(Clone, Debug, Default)]
pub(super) struct Upstream {
    pub(super) groups: Vec<String>,
    pub(super) subnets: Vec<String>,
}

/// Ways in through load balancers (and the APIs in front of them), by the id of the resource they
/// reach.
#[derive(Default)]
pub(super) struct EdgeWays {
    pub(super) by_target: HashMap<String, Vec<Way>>,
    /// Why every workload's load-balancer ways are unknown (a listing that failed, targets
    /// that could not be read, an address no interface holds), when they are.
    pub(super) unknown: Option<String>,
    /// Each load balancer's own reachability and what it forwards to, by its id.
    pub(super) balancers: HashMap<String, (Option<Reachability>, Vec<String>)>,
}
