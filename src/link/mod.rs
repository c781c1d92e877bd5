//! `link`: the pure, synchronous step between collection and evaluation. It owns every field the
//! model marks *derived*: subnet tiers, effective route tables, security-group ingress resolved to
//! tiers and components, internet reachability with its path as evidence, alarms per resource
//! and which of the spec's alarm categories they cover, alarm → SNS → PagerDuty wiring (through
//! a topic whose KMS key CloudWatch may use: `keys`), ECS scaling alarms, the users of every
//! security group (from the network interfaces), the ways in through load balancers, each
//! function's origins judged against Cloudflare's ranges, Cloudflare rule coverage of the
//! webhook, and the `estate` record.
//!
//! It must not reach the network, read the clock, judge compliance (that is the rule pack's job)
//! or read a derived field of its input (so running it twice gives the same inventory). **`null`
//! means unknown**: a fact whose inputs are missing (a null field, a referenced resource absent from
//! the inventory, a kind listed in `collection_errors`) stays `None`, never a passing default.
//! Joins go through hash maps built once, so linking is linear in the inventory size.
//!
//! Shape: `index` builds [`Ctx`], the indexes over the inventory by reference, and `edge` adds
//! the ways in through load balancers and APIs (kept as `ways`); `facts` derives
//! each resource's attrs with every derived field set (every one of them, so stale values are
//! overwritten), asking `reach` for internet paths (and `edge` for the ways in through load
//! balancers), `users` for who uses an interface, `origin` (with `iam` for resource policies)
//! for a function's origins, and `alarms`, `coverage` and `cloudflare` for their facts; `link`
//! then swaps them in and replaces the estate record (`estate`).

/// A derived list that could grow with the estate (who is in a subnet, what an alarm watches,
/// where an alarm's route goes) keeps this many items, with a total beside it.
const LIST_MAX: usize = 20;

mod alarms;
mod cloudflare;
mod coverage;
mod edge;
mod estate;
pub mod expr;
mod facts;
mod filter;
mod grafana;
pub mod iam;
mod index;
mod keys;
mod logs;
mod loki;
pub mod net;
mod origin;
mod pagerduty;
mod prometheus;
mod reach;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
mod users;
mod ways;
mod zabbix;

use crate::model::*;
use index::Ctx;

/// Fills every derived field of `inv` and (re)creates the estate record.
pub fn link(inv: &mut Inventory) {
    inv.resources
        .retain(|r| !matches!(r.attrs, Attrs::Estate(_)));
    let (updates, estate) = {
        let mut ctx = Ctx::build(&inv.resources, &inv.estate, &inv.collection_errors);
        // The ways in through load balancers and APIs need the groups' ingress, built above.
        ctx.edge_ways = ctx.edge_ways();
        let updates = derive_all(&ctx, &inv.resources);
        (updates, ctx.estate_record(&inv.scope.regions))
    };
    for part in updates {
        for (i, a) in part {
            if let Some(r) = inv.resources.get_mut(i) {
                r.attrs = a;
            }
        }
    }
    inv.resources.push(estate);
}

/// Below this many resources, threads cost more than deriving on one.
const PARALLEL_THRESHOLD: usize = 4096;

/// The derived attrs of every resource that has derived fields, by index, in order (one list per
/// thread). Only those are kept: a slot for every resource (most kinds derive nothing) cost more
/// memory than the inventory's own list. Derivation reads only the shared indexes, so large
/// inventories are split across threads (as evaluation is); a thread that died is redone here,
/// so no resource is ever left underived.
fn derive_all(ctx: &Ctx<'_>, resources: &[Resource]) -> Vec<Vec<(usize, Attrs)>> {
    let derive_range = |start: usize, c: &[Resource]| -> Vec<(usize, Attrs)> {
        c.iter()
            .enumerate()
            .filter_map(|(i, r)| ctx.derive(r).map(|a| (start + i, a)))
            .collect()
    };
    let threads = crate::sys::threads();
    if threads <= 1 || resources.len() < PARALLEL_THRESHOLD {
        return vec![derive_range(0, resources)];
    }
    let chunk = resources.len().div_ceil(threads);
    let mut chunks = resources.chunks(chunk).enumerate();
    let first = chunks.next().map_or(&[][..], |(_, c)| c);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .map(|(n, c)| {
                let start = n * chunk;
                (start, c, s.spawn(move || derive_range(start, c)))
            })
            .collect();
        // The first chunk on this thread, whose allocator arena holds the inventory (memory it
        // frees there is reused rather than another arena growing).
        let mut parts = vec![derive_range(0, first)];
        parts.extend(
            handles
                .into_iter()
                .map(|(start, c, h)| h.join().unwrap_or_else(|_| derive_range(start, c))),
        );
        parts
    })
}

/// The cluster name of an ECS cluster ARN (`arn:…:cluster/<name>`), or the text itself.
fn cluster_name(arn: &str) -> &str {
    arn.rsplit_once(":cluster/")
        .map(|(_, n)| n)
        .or_else(|| arn.rsplit_once('/').map(|(_, n)| n))
        .unwrap_or(arn)
}
