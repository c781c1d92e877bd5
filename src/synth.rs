//! Synthetic, spec-shaped inventories of any size, for benchmarks and load measurements (issue
//! #7): `spec_shaped(n, seed)` gives exactly `n` resources, the same bytes for the same arguments.
//!
//! Shape: the bundled demo estate (a complete spec estate: VPC, three subnet tiers, route tables,
//! NAT, security groups with SG-to-SG and CIDR rules, the RabbitMQ instance and its volume, RDS
//! with its parameter group, Redis, the webhook Lambda, ECS with scaling targets, policies and
//! alarms, SNS topics and subscriptions, one Cloudflare zone) is group 0 and stays the audited
//! estate. Every further group is a copy of its AWS part in its own account, with every identifier
//! rewritten so that the copy links within itself and never to another group, and a few
//! compliance facts varied by the seed (unencrypted volumes, public databases, IMDSv1, Redis
//! without AUTH) so findings are a realistic mix of passes and failures. Copying the demo rather
//! than inventing resources keeps every attribute filled the way a collector fills it, so the
//! engine does the same work per resource as on a real estate.
//!
//! Not used by the audit itself; never panics (a demo that failed to parse gives an empty
//! inventory, and the demo is tested to parse).

use crate::model::json::{parse_inventory, DEMO_INVENTORY};
use crate::model::{Attrs, Inventory, Resource};

/// An inventory of exactly `n` resources shaped like the spec's estate; deterministic in
/// `(n, seed)`. Below the demo's size it is a prefix of the demo.
pub fn spec_shaped(n: usize, seed: u64) -> Inventory {
    let Ok(mut inv) = parse_inventory(DEMO_INVENTORY, "<demo>/inventory.json") else {
        return Inventory::new(Default::default());
    };
    let demo = std::mem::take(&mut inv.resources);
    // Copies carry the AWS part only: one Cloudflare zone per estate, as in the spec.
    let template: Vec<&Resource> = demo
        .iter()
        .filter(|r| !r.kind().starts_with("cloudflare."))
        .collect();
    let template_json = serde_json::to_string(&template).unwrap_or_else(|_| "[]".into());
    let mut out = Vec::with_capacity(n);
    out.extend(demo.iter().take(n).cloned());
    let mut rng = SplitMix(seed);
    let mut group = 1u64;
    while out.len() < n && !template.is_empty() {
        let text = rename(&template_json, group);
        let Ok(copy) = serde_json::from_str::<Vec<Resource>>(&text) else {
            break;
        };
        for mut r in copy.into_iter().take(n - out.len()) {
            vary(&mut r, &mut rng);
            out.push(r);
        }
        group += 1;
    }
    inv.resources = out;
    inv.scope.accounts = {
        let mut a: Vec<String> = inv
            .resources
            .iter()
            .filter_map(|r| r.account.clone())
            .collect();
        a.sort();
        a.dedup();
        a
    };
    inv
}

/// An inventory of exactly `n` resources whose workloads share what they refer to (issue #14):
/// the demo's network, groups, topics, subscriptions, scaling policies and parameter groups once,
/// and copies of its workloads and alarms (instances with their volumes and interfaces,
/// databases, caches, functions, services, alarms) that keep every attribute, so they sit in the
/// same subnets, carry the same groups, alarm on the same metrics and trigger the same policies;
/// only each copy's id differs. Large real estates look like this (thousands of interfaces in
/// one group, many alarms on one metric), and no finding's evidence may grow with their number.
/// Deterministic in `n`.
pub fn shared_references(n: usize) -> Inventory {
    const COPIED: &[&str] = &[
        "aws.cloudwatch.alarm",
        "aws.ec2.network_interface",
        "aws.ec2.instance",
        "aws.ec2.volume",
        "aws.rds.db_instance",
        "aws.elasticache.cluster",
        "aws.lambda.function",
        "aws.ecs.service",
    ];
    let Ok(mut inv) = parse_inventory(DEMO_INVENTORY, "<demo>/inventory.json") else {
        return Inventory::new(Default::default());
    };
    let demo = std::mem::take(&mut inv.resources);
    let template: Vec<&Resource> = demo.iter().filter(|r| COPIED.contains(&r.kind())).collect();
    let mut out = Vec::with_capacity(n);
    out.extend(demo.iter().take(n).cloned());
    let mut group = 1u64;
    while out.len() < n && !template.is_empty() {
        for r in template.iter().take(n - out.len()) {
            let mut copy = (*r).clone();
            copy.id = format!("{}~{group}", r.id);
            out.push(copy);
        }
        group += 1;
    }
    inv.resources = out;
    inv
}

/// The demo's identifiers rewritten for group `g`: its own account (so every ARN differs), EC2
/// ids with a group infix, and the names the demo joins on (`estate…`, `webhook`, `worker`,
/// `rabbitmq`) with a group suffix. The estate tag becomes `grp<g>=audit-demo`, so copies are
/// other workloads in the same organisation, not a second estate (which would make the estate
/// VPC ambiguous). Every occurrence is rewritten the same way, so references stay consistent.
fn rename(template: &str, g: u64) -> String {
    let mut t = template.replace("111122223333", &format!("{:012}", 200_000_000_000 + g));
    for p in [
        "vpc-0", "subnet-0", "igw-0", "rtb-0", "nat-0", "acl-0", "sg-0", "i-0", "vol-0", "eni-0",
    ] {
        let stem = &p[..p.len() - 1];
        t = t.replace(p, &format!("{stem}{g:x}g0"));
    }
    for (from, to) in [
        ("estate", "grp"),
        ("webhook", "hook"),
        ("worker", "proc"),
        ("rabbitmq", "mq"),
    ] {
        t = t.replace(from, &format!("{to}{g}"));
    }
    t
}

/// Varies a copy's compliance facts: mostly compliant, some failures, as a real estate has.
fn vary(r: &mut Resource, rng: &mut SplitMix) {
    match &mut r.attrs {
        Attrs::Volume(v) => v.encrypted = Some(rng.below(10) != 0),
        Attrs::DbInstance(d) => {
            d.publicly_accessible = Some(rng.below(20) == 0);
            d.storage_encrypted = Some(rng.below(8) != 0);
        }
        Attrs::Instance(i) => {
            if let Some(m) = &mut i.metadata_options {
                m.http_tokens = Some(
                    if rng.below(4) == 0 {
                        "optional"
                    } else {
                        "required"
                    }
                    .into(),
                );
            }
        }
        Attrs::CacheReplicationGroup(c) => c.auth_token_enabled = Some(rng.below(3) != 0),
        _ => {}
    }
}

/// SplitMix64: tiny, deterministic across platforms, good enough to pick variations.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Attrs;

    #[test]
    fn exact_size_deterministic_and_distinct_ids() {
        for n in [0, 10, 49, 50, 1_000] {
            let a = spec_shaped(n, 7);
            assert_eq!(a.resources.len(), n);
            assert_eq!(a, spec_shaped(n, 7));
            let mut ids: Vec<&str> = a.resources.iter().map(|r| r.id.as_str()).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), n, "ids are unique");
        }
        assert_ne!(spec_shaped(1_000, 1), spec_shaped(1_000, 2));
    }

    #[test]
    fn shared_copies_differ_only_by_id() {
        let a = shared_references(500);
        assert_eq!(a.resources.len(), 500);
        let mut ids: Vec<&str> = a.resources.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 500, "ids are unique");
        let copy = a.resources.iter().find(|r| r.id.ends_with("~1")).unwrap();
        let original = a
            .resources
            .iter()
            .find(|r| r.id == copy.id.trim_end_matches("~1"))
            .unwrap();
        assert_eq!(copy.attrs, original.attrs);
    }

    #[test]
    fn copies_link_within_their_group() {
        let mut inv = spec_shaped(1_500, 3);
        crate::link::link(&mut inv);
        let subnets: Vec<_> = inv
            .resources
            .iter()
            .filter_map(|r| match &r.attrs {
                Attrs::Subnet(s) => Some(s),
                _ => None,
            })
            .collect();
        assert!(subnets.len() > 100);
        // Every copied subnet found its route table and its tier, as in the demo.
        assert!(subnets.iter().all(|s| s.route_table_id.is_some()));
        assert!(subnets.iter().all(|s| s.tier.is_some()));
        // The estate VPC is still the demo's and only its.
        let estate = inv
            .resources
            .iter()
            .find_map(|r| match &r.attrs {
                Attrs::Estate(e) => Some(e),
                _ => None,
            })
            .expect("estate record");
        assert!(estate.vpc_id.as_deref() == Some("vpc-0e57a7e5c1d2f3a40"));
    }
}
