//! Who uses a network interface: the spec component it belongs to, or what it is. Interfaces are
//! what security groups attach to, so these names are the users of a group that the "admits
//! only" rules judge: every interface is named, never dropped, so a bastion host, a stray
//! container or a load balancer that shares the processors' group shows up as itself.
//!
//! The owner is read from what EC2 reports (the attachment, the interface type, the requester
//! and the description AWS writes for its managed interfaces) and matched against the
//! inventory's workloads by subnet and groups. It must not guess a component: when the match is
//! not exact, the interface is named by what it is, which no rule accepts as a component.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::Ctx;
use crate::model::*;

/// Whose an interface is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct User {
    /// What the "admits only" rules compare: a component name (`rabbitmq`, `webhook`,
    /// `ecs_service`, `rds`, `redis`) or a description of anything else.
    pub(super) name: String,
    /// The resources of the inventory it belongs to (an instance, a service, a database…):
    /// where an address of the interface leads. Shared by every interface of one placement, so
    /// that thousands of tasks behind one group hold one list, not one each.
    pub(super) resource_ids: Arc<Vec<String>>,
}

/// The users of the interfaces that are told apart only by where they are placed (a category of
/// owner, a subnet, exactly these groups): named once per placement.
pub(super) type PlacedUsers<'a> = HashMap<(&'static str, &'a str, Vec<&'a str>), User>;

/// A user that is no workload of the inventory, named by what it is.
fn other(what: String) -> User {
    User {
        name: what,
        resource_ids: Arc::default(),
    }
}

/// The kind of owner an interface's type, description or requester names, when its workload
/// is told by placement: a Lambda function's, an ECS task's, an RDS instance's.
fn category(n: &NetworkInterface) -> Option<&'static str> {
    let desc = n.description.as_deref().unwrap_or("");
    if n.interface_type.as_deref() == Some("lambda") || desc.starts_with("AWS Lambda VPC ENI") {
        Some("lambda")
    } else if desc.starts_with("arn:aws:ecs:")
        || desc.starts_with("arn:aws-") && desc.contains(":ecs:")
    {
        Some("ecs")
    } else if desc == "RDSNetworkInterface" || n.requester_id.as_deref() == Some("amazon-rds") {
        Some("rds")
    } else {
        None
    }
}

fn sorted(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

impl<'a> Ctx<'a> {
    /// The user of interface `n`, as named once when the indexes were built.
    pub(super) fn user_of(&self, n: &'a NetworkInterface) -> Option<User> {
        match n.network_interface_id.as_deref() {
            Some(id) => self.interface_users.get(id).cloned().flatten(),
            None => self.interface_user(n, None),
        }
    }

    /// The user of interface `n`. `None` when it cannot be told (an attached instance whose
    /// role is unknown). `placed_users`: the users already named per placement, when the caller
    /// keeps them (the index does, for every interface).
    pub(super) fn interface_user(
        &self,
        n: &'a NetworkInterface,
        placed_users: Option<&mut PlacedUsers<'a>>,
    ) -> Option<User> {
        if let Some(inst) = n.attached_instance_id.as_deref() {
            return Some(match self.instances.get(inst) {
                Some((r, i)) => User {
                    name: match self.is_rabbitmq(r, i)? {
                        true => "rabbitmq".into(),
                        false => format!("instance {inst}"),
                    },
                    resource_ids: Arc::new(vec![r.id.clone()]),
                },
                None => other(format!("instance {inst} (not in the inventory)")),
            });
        }
        let groups = n.security_group_ids.as_deref().map(sorted);
        let subnet = n.subnet_id.as_deref();
        let category = category(n);
        let key = match (category, subnet, &groups) {
            (Some(c), Some(s), Some(g)) => Some((c, s, g.iter().copied().collect::<Vec<&str>>())),
            _ => None,
        };
        if let (Some(k), Some(p)) = (&key, placed_users.as_deref()) {
            if let Some(u) = p.get(k) {
                return Some(u.clone());
            }
        }
        let user = self.placed_user(n, category, &groups)?;
        // Named by workloads, the user is the same for every interface of the placement.
        if let (Some(k), Some(p)) = (key, placed_users) {
            if !user.resource_ids.is_empty() {
                p.insert(k, user.clone());
            }
        }
        Some(user)
    }

    /// [`Ctx::interface_user`] past the instances' own interfaces: by category and placement,
    /// then by what the description says.
    fn placed_user(
        &self,
        n: &'a NetworkInterface,
        category: Option<&'static str>,
        groups: &Option<BTreeSet<&'a str>>,
    ) -> Option<User> {
        let id = n.network_interface_id.as_deref().unwrap_or("?");
        let subnet = n.subnet_id.as_deref();
        let desc = n.description.as_deref().unwrap_or("");
        let itype = n.interface_type.as_deref().unwrap_or("interface");
        // The workloads placed in the interface's subnet with exactly its groups.
        let placed: Vec<&Resource> = match (subnet, groups) {
            (Some(s), Some(g)) => self
                .placed
                .get(&(s, g.iter().copied().collect::<Vec<&str>>()))
                .cloned()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        if category == Some("lambda") {
            let fns = placed.iter().filter_map(|r| match &r.attrs {
                Attrs::LambdaFunction(l) => Some((
                    *r,
                    match self.is_webhook(l) {
                        Some(true) => "webhook".to_string(),
                        _ => format!(
                            "lambda {}",
                            l.function_name.as_deref().unwrap_or(r.id.as_str())
                        ),
                    },
                )),
                _ => None,
            });
            return Some(self.named_workloads(fns, || format!("lambda interface {id} ({desc})")));
        }
        if category == Some("ecs") {
            let services = placed.iter().filter_map(|r| match &r.attrs {
                Attrs::EcsService(s) => Some((
                    *r,
                    match self.is_processor(s) {
                        Some(true) => "ecs_service".to_string(),
                        _ => format!(
                            "ecs service {}",
                            s.service_name.as_deref().unwrap_or(r.id.as_str())
                        ),
                    },
                )),
                _ => None,
            });
            return Some(self.named_workloads(services, || {
                format!("ecs task interface {id} (no service of the inventory matches)")
            }));
        }
        if category == Some("rds") {
            let dbs = placed.iter().filter_map(|r| match &r.attrs {
                Attrs::DbInstance(_) => Some((*r, "rds".to_string())),
                _ => None,
            });
            return Some(self.named_workloads(dbs, || {
                format!("rds interface {id} (no database of the inventory matches)")
            }));
        }
        if let Some(cluster) = desc.strip_prefix("ElastiCache ") {
            let found = self
                .cache_clusters
                .iter()
                .find(|(_, c)| c.cache_cluster_id.as_deref() == Some(cluster.trim()));
            return Some(match found {
                Some((r, _)) => User {
                    name: "redis".into(),
                    resource_ids: Arc::new(vec![r.id.clone()]),
                },
                None => other(format!("elasticache {cluster} (not in the inventory)")),
            });
        }
        if let Some(lb) = desc.strip_prefix("ELB ") {
            return Some(other(format!("load balancer {lb}")));
        }
        Some(other(match itype {
            "nat_gateway" => format!("nat gateway interface {id}"),
            "vpc_endpoint" => format!("vpc endpoint interface {id}"),
            "interface" if n.status.as_deref() == Some("available") => {
                format!("unattached interface {id}")
            }
            t => format!(
                "{t} interface {id} (requester {}, {})",
                n.requester_id.as_deref().unwrap_or("none"),
                if desc.is_empty() {
                    "no description"
                } else {
                    desc
                }
            ),
        }))
    }

    /// The user of an interface shared by `workloads` (each with its name): their names joined
    /// when they agree, every name when they do not, and `none` when no workload matches.
    fn named_workloads<'r>(
        &self,
        workloads: impl Iterator<Item = (&'r Resource, String)>,
        none: impl FnOnce() -> String,
    ) -> User {
        let mut names = BTreeSet::new();
        let mut ids = Vec::new();
        for (r, name) in workloads {
            names.insert(name);
            ids.push(r.id.clone());
        }
        if names.is_empty() {
            return User {
                name: none(),
                resource_ids: Arc::new(ids),
            };
        }
        User {
            name: names.into_iter().collect::<Vec<_>>().join(" + "),
            resource_ids: Arc::new(ids),
        }
    }
}
