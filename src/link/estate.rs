//! The estate record: one `estate` resource holding facts about the estate as a whole (the VPC
//! found, regions, spec components present, missing or unknown). It must not judge them; the
//! rule pack decides what a missing component means.

use std::collections::{BTreeSet, HashSet};

use super::*;

/// A spec component: its name, whether the inventory shows it, and the kinds whose collection
/// failure makes its absence unknown.
struct Component {
    name: &'static str,
    found: bool,
    kinds: &'static [&'static str],
}

impl Ctx<'_> {
    /// An estate resource for the region facts: with `estate.tag` configured, a resource carrying
    /// it; otherwise any AWS resource except the default VPC and its plumbing (AWS creates one
    /// in every region, it says nothing about where the estate is). Cloudflare and `global`
    /// resources have no region to compare.
    fn is_estate_resource(&self, r: &Resource, default_vpcs: &HashSet<&str>) -> bool {
        if r.kind().starts_with("cloudflare.") || matches!(r.attrs, Attrs::Estate(_)) {
            return false;
        }
        if r.region.as_deref() == Some("global") {
            return false;
        }
        if let Some(tag) = self.cfg.estate.tag.as_deref() {
            return r.has_tag(tag);
        }
        let in_default = |v: Option<&String>| v.is_some_and(|v| default_vpcs.contains(v.as_str()));
        !match &r.attrs {
            Attrs::Vpc(v) => v.is_default == Some(true),
            Attrs::Subnet(s) => in_default(s.vpc_id.as_ref()),
            Attrs::RouteTable(t) => in_default(t.vpc_id.as_ref()),
            Attrs::SecurityGroup(g) => in_default(g.vpc_id.as_ref()),
            Attrs::NetworkAcl(a) => in_default(a.vpc_id.as_ref()),
            Attrs::InternetGateway(g) => {
                !g.attached_vpc_ids.is_empty()
                    && g.attached_vpc_ids.iter().all(|v| in_default(Some(v)))
            }
            _ => false,
        }
    }

    /// The estate record. `other_regions_scanned`: the inventory's scope lists a region other
    /// than the configured one (so estate resources elsewhere would be in it).
    pub(super) fn estate_record(&self, scanned: &[String]) -> Resource {
        let region = self.cfg.region.clone();
        let default_vpcs: HashSet<&str> = self
            .resources
            .iter()
            .filter_map(|r| match &r.attrs {
                Attrs::Vpc(v) if v.is_default == Some(true) => v.vpc_id.as_deref(),
                _ => None,
            })
            .collect();
        let mut regions = BTreeSet::new();
        let mut out_of_region = Vec::new();
        for r in self.resources {
            if !self.is_estate_resource(r, &default_vpcs) {
                continue;
            }
            if let Some(rg) = r.region.as_deref() {
                regions.insert(rg.to_string());
                if region.as_deref().is_some_and(|c| c != rg) {
                    out_of_region.push(r.id.clone());
                }
            }
        }
        out_of_region.sort();
        // None found elsewhere proves nothing unless someone looked: other regions must have
        // been scanned, and for the estate's own resources (the estate tag says which).
        let others: Vec<&str> = scanned
            .iter()
            .map(String::as_str)
            .filter(|r| Some(*r) != region.as_deref())
            .collect();
        let other_regions = match (&self.cfg.estate.tag, others.is_empty()) {
            (_, true) => "no other region was scanned".to_string(),
            (None, false) => format!(
                "{} other region(s) scanned, but no estate.tag says which resources there are \
                 the estate's",
                others.len()
            ),
            (Some(tag), false) => format!(
                "{} other region(s) scanned for the tag {tag}: {}",
                others.len(),
                crate::text::list_at_most(
                    &others.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                    5
                )
            ),
        };
        let out_of_region =
            if out_of_region.is_empty() && (others.is_empty() || self.cfg.estate.tag.is_none()) {
                None
            } else {
                Some(out_of_region)
            };

        let vpc_id = self.estate_vpc.and_then(|(_, v)| v.vpc_id.clone());
        let estate_vpc = vpc_id.as_deref();
        let tier_present = |t: Tier| self.subnets.values().any(|i| i.in_estate && i.tier == t);
        let mut nat = false;
        let mut webhook = false;
        let mut rabbitmq = false;
        let mut ecs = false;
        let mut rds = false;
        let mut redis = false;
        for r in self.resources {
            match &r.attrs {
                Attrs::NatGateway(n) => {
                    nat |= estate_vpc.is_some()
                        && n.vpc_id.as_deref() == estate_vpc
                        && !matches!(n.state.as_deref(), Some("deleted" | "deleting" | "failed"));
                }
                Attrs::LambdaFunction(l) => webhook |= self.is_webhook(l) == Some(true),
                Attrs::Instance(i) => {
                    rabbitmq |= self.is_rabbitmq(r, i) == Some(true)
                        && !matches!(i.state.as_deref(), Some("terminated" | "shutting-down"));
                }
                Attrs::EcsService(s) => ecs |= self.is_processor(s) == Some(true),
                Attrs::DbInstance(d) => rds |= d.status.as_deref() != Some("deleting"),
                Attrs::CacheCluster(_) | Attrs::CacheReplicationGroup(_) => redis = true,
                _ => {}
            }
        }
        let components = [
            Component {
                name: "vpc",
                found: self.estate_vpc.is_some(),
                kinds: &[kind::VPC],
            },
            Component {
                name: "public_subnet",
                found: tier_present(Tier::Public),
                kinds: &[kind::SUBNET],
            },
            Component {
                name: "compute_subnets",
                found: tier_present(Tier::Compute),
                kinds: &[kind::SUBNET],
            },
            Component {
                name: "database_subnets",
                found: tier_present(Tier::Database),
                kinds: &[kind::SUBNET],
            },
            Component {
                name: "nat_gateway",
                found: nat,
                kinds: &[kind::NAT_GATEWAY],
            },
            Component {
                name: "webhook_function",
                found: webhook,
                kinds: &[kind::LAMBDA_FUNCTION],
            },
            Component {
                name: "rabbitmq",
                found: rabbitmq,
                kinds: &[kind::INSTANCE],
            },
            Component {
                name: "ecs_service",
                found: ecs,
                kinds: &[kind::ECS_SERVICE, kind::ECS_CLUSTER],
            },
            Component {
                name: "rds",
                found: rds,
                kinds: &[kind::DB_INSTANCE],
            },
            Component {
                name: "redis",
                found: redis,
                kinds: &[kind::CACHE_CLUSTER, kind::CACHE_REPLICATION_GROUP],
            },
            Component {
                name: "cloudflare_zone",
                found: self.zone.is_some(),
                kinds: &[kind::CLOUDFLARE_ZONE],
            },
        ];
        let mut facts = EstateFacts {
            region: region.clone(),
            vpc_id,
            regions_found: regions.into_iter().collect(),
            out_of_region_resources: out_of_region,
            other_regions: Some(other_regions),
            ..Default::default()
        };
        for c in components {
            // The whole VPC layout is unknown when the VPC list itself failed.
            let unknown = self.any_errored(c.kinds)
                || (c.name != "vpc" && c.kinds == [kind::SUBNET] && self.any_errored(&[kind::VPC]));
            let list = if c.found {
                &mut facts.components_found
            } else if unknown {
                &mut facts.components_unknown
            } else {
                &mut facts.components_missing
            };
            list.push(c.name.to_string());
        }
        let id = match self.estate_vpc {
            Some((r, _)) => r.id.clone(),
            None => format!("estate:{}", region.as_deref().unwrap_or("unknown")),
        };
        let mut r = Resource::new(id, Attrs::Estate(facts));
        r.name = Some("estate".into());
        r.region = region;
        if let Some((vr, _)) = self.estate_vpc {
            r.account = vr.account.clone();
        }
        r
    }
}
