//! PagerDuty's side of the alarm routes: for each alarm, the services its delivering routes'
//! integration keys belong to, and what keeps each from paging someone now (not active, no
//! escalation target, nobody on call at the first level). It owns [`PagerDutyIndex`] (services
//! by key digest) and the derivation of [`AlarmPagerDuty`]; following the alarm to its routes
//! is `alarms`'. It must not treat what was not read as absent: when the service listing
//! failed, every list is `null`; a policy or on-call list not read leaves its own list `null`.

use std::collections::{BTreeSet, HashMap};

use crate::model::{AlarmPagerDuty, CollectionError, EstateConfig, PagerDutyService, Resource};

/// A route that delivers to PagerDuty: the topic, the (redacted) endpoint and its key's digest.
pub(super) struct Delivery {
    pub(super) topic: String,
    pub(super) endpoint: String,
    pub(super) key_digest: Option<String>,
}

/// Services by the digests of their integration keys, and whether the listing was read whole.
#[derive(Default)]
pub(super) struct PagerDutyIndex<'a> {
    audited: bool,
    /// The service listing failed (or the key was missing): nothing can be said.
    unread: bool,
    by_digest: HashMap<&'a str, Vec<(&'a Resource, &'a PagerDutyService)>>,
}

/// Statuses in which a service turns events into incidents (`warning` and `critical` are
/// active services with open incidents).
const LIVE: [&str; 3] = ["active", "warning", "critical"];

impl<'a> PagerDutyIndex<'a> {
    pub(super) fn new(cfg: &EstateConfig, errors: &[CollectionError]) -> Self {
        PagerDutyIndex {
            audited: cfg.audits_pagerduty(),
            // The listing's own failures (no key, a bad base URL, `/services` refused, the
            // deadline); a policy or on-call read failing leaves only its own fields unknown.
            unread: errors.iter().any(|e| {
                e.provider == "pagerduty"
                    && matches!(
                        e.service.as_str(),
                        "api_key" | "api" | "services" | "pagerduty"
                    )
            }),
            by_digest: HashMap::new(),
        }
    }

    /// Whether PagerDuty is audited (`None`: not; then nothing is said of keys).
    pub(super) fn audited(&self) -> bool {
        self.audited
    }

    /// Whether the key with `digest` belongs to a service; `None` when the services were not
    /// read.
    pub(super) fn resolves(&self, digest: &str) -> Option<bool> {
        (!self.unread).then(|| self.by_digest.contains_key(digest))
    }

    pub(super) fn add(&mut self, r: &'a Resource, s: &'a PagerDutyService) {
        for i in &s.integrations {
            if let Some(d) = i.key_digest.as_deref() {
                let v = self.by_digest.entry(d).or_default();
                if !v.iter().any(|(x, _)| x.id == r.id) {
                    v.push((r, s));
                }
            }
        }
    }

    /// The facts of one alarm whose delivering routes are `routes` (`None`: whether it routes
    /// could not be told).
    pub(super) fn facts(&self, routes: Option<&[Delivery]>) -> AlarmPagerDuty {
        if !self.audited {
            return AlarmPagerDuty::default();
        }
        let unknown = AlarmPagerDuty {
            audited: true,
            ..Default::default()
        };
        let Some(routes) = routes else {
            return unknown;
        };
        if self.unread {
            return unknown;
        }
        let mut unresolved = BTreeSet::new();
        let mut services: Vec<(&Resource, &PagerDutyService)> = Vec::new();
        for d in routes {
            let route = format!("topic {} → {}", d.topic, d.endpoint);
            let Some(digest) = d.key_digest.as_deref() else {
                unresolved.insert(format!("{route}: the endpoint carries no integration key"));
                continue;
            };
            match self.by_digest.get(digest) {
                None => {
                    unresolved.insert(format!(
                        "{route}: its integration key belongs to no PagerDuty service"
                    ));
                }
                Some(found) => {
                    for &(r, s) in found {
                        if !services.iter().any(|(x, _)| x.id == r.id) {
                            services.push((r, s));
                        }
                    }
                }
            }
        }
        services.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        let mut inactive = Some(Vec::new());
        let mut unescalated = Some(Vec::new());
        let mut unstaffed = Some(Vec::new());
        for &(r, s) in &services {
            let name = service_name(r, s);
            push(
                &mut inactive,
                inactive_why(s).map(|w| w.map(|w| format!("{name} {w}"))),
            );
            push(
                &mut unescalated,
                unescalated_why(s).map(|w| w.map(|w| format!("{name}: {w}"))),
            );
            push(
                &mut unstaffed,
                unstaffed_why(s).map(|w| w.map(|w| format!("{name}: {w}"))),
            );
        }
        AlarmPagerDuty {
            audited: true,
            services: Some(services.iter().map(|&(r, s)| service_name(r, s)).collect()),
            unresolved: Some(unresolved.into_iter().collect()),
            inactive,
            unescalated,
            unstaffed,
        }
    }
}

/// Adds a problem (`Some(Some(why))`) to a list, or makes the list unknown (`None`).
fn push(list: &mut Option<Vec<String>>, item: Option<Option<String>>) {
    match item {
        None => *list = None,
        Some(Some(why)) => {
            if let Some(l) = list {
                l.push(why);
            }
        }
        Some(None) => {}
    }
}

/// `estate-production (PSV8R2Q)`.
fn service_name(r: &Resource, s: &PagerDutyService) -> String {
    let id = s.service_id.as_deref().unwrap_or(&r.id);
    match r.name.as_deref() {
        Some(n) if n != id => format!("{n} ({id})"),
        _ => id.to_string(),
    }
}

/// `None`: unknown; `Some(None)`: fine; `Some(Some(why))`: the problem.
fn inactive_why(s: &PagerDutyService) -> Option<Option<String>> {
    let status = s.status.as_deref()?;
    Some((!LIVE.contains(&status)).then(|| format!("is {status}: it creates no incidents")))
}

fn unescalated_why(s: &PagerDutyService) -> Option<Option<String>> {
    let Some(policy) = s.escalation_policy_id.as_deref() else {
        return Some(Some("it has no escalation policy".into()));
    };
    let name = policy_name(s, policy);
    let rules = s.escalation_rules.as_ref()?;
    if rules.is_empty() {
        return Some(Some(format!("escalation policy {name} has no rules")));
    }
    let empty: Vec<String> = rules
        .iter()
        .filter(|r| r.targets.is_empty())
        .map(|r| r.level.to_string())
        .collect();
    if !empty.is_empty() {
        return Some(Some(format!(
            "escalation policy {name} has no target at level {}",
            empty.join(", ")
        )));
    }
    // A target is someone only when someone is on call through it now: a schedule nobody is in
    // is a level that notifies no one. Level 1 is `pagerduty-on-call-now`'s; the later levels
    // are the escalation's.
    let oncall = s.on_call_now.as_ref()?;
    let unstaffed: Vec<String> = rules
        .iter()
        .filter(|r| r.level > 1)
        .filter(|r| {
            !oncall
                .iter()
                .any(|o| o.level == r.level && o.user.is_some())
        })
        .map(|r| format!("level {} ({})", r.level, r.targets.join(", ")))
        .collect();
    Some((!unstaffed.is_empty()).then(|| {
        format!(
            "escalation policy {name} has nobody on call now at {}",
            unstaffed.join(" and ")
        )
    }))
}

fn unstaffed_why(s: &PagerDutyService) -> Option<Option<String>> {
    let Some(policy) = s.escalation_policy_id.as_deref() else {
        return Some(Some(
            "it has no escalation policy, so nobody is on call".into(),
        ));
    };
    let oncall = s.on_call_now.as_ref()?;
    if oncall.iter().any(|o| o.level == 1 && o.user.is_some()) {
        return Some(None);
    }
    let name = policy_name(s, policy);
    let later: Vec<String> = oncall
        .iter()
        .filter_map(|o| Some(format!("{} at level {}", o.user.as_deref()?, o.level)))
        .collect();
    Some(Some(if later.is_empty() {
        format!("nobody is on call now for escalation policy {name}")
    } else {
        format!(
            "nobody is on call now at level 1 of escalation policy {name} (only {})",
            later.join(", ")
        )
    }))
}

fn policy_name(s: &PagerDutyService, id: &str) -> String {
    match s.escalation_policy_name.as_deref() {
        Some(n) => format!("{n} ({id})"),
        None => id.to_string(),
    }
}
