//! Zabbix for the RabbitMQ host: which Zabbix host polls the instance (an interface on one of
//! its addresses, so a host that merely shares the name is not it), whether that host is
//! monitored and available, which enabled and evaluable triggers cover the host's health (read
//! from the item keys of the expanded expression, never from the description, which can say
//! anything), whether an enabled trigger action whose conditions match each of them sends it
//! through an enabled PagerDuty media type to someone who has that media, and whether the media
//! type's key belongs to a PagerDuty service. It owns [`ZabbixIndex`]; it must not read what
//! was not read as absent: such a fact stays `null`.

use std::collections::BTreeSet;

use super::prometheus::{addresses, ALARMS};
use super::Ctx;
use crate::model::{
    EstateConfig, HostZabbix, Instance, MonitoringProvider, Resource, ZabbixAction,
    ZabbixCondition, ZabbixHost, ZabbixMediaType, ZabbixServer, ZabbixTrigger,
};

#[derive(Default)]
pub(super) struct ZabbixIndex<'a> {
    audited: bool,
    servers: Vec<&'a ZabbixServer>,
}

impl<'a> ZabbixIndex<'a> {
    pub(super) fn new(cfg: &EstateConfig) -> Self {
        ZabbixIndex {
            audited: cfg.audits(MonitoringProvider::Zabbix),
            servers: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, z: &'a ZabbixServer) {
        self.servers.push(z);
    }

    /// The facts of the RabbitMQ instance.
    pub(super) fn host(&self, _r: &Resource, i: &Instance) -> HostZabbix {
        let mut out = HostZabbix {
            audited: self.audited,
            ..Default::default()
        };
        // One server is configured; none in the inventory means it was not read.
        let Some(server) = self.servers.first().copied() else {
            return out;
        };
        let Some(hosts) = &server.hosts else {
            return out;
        };
        let addrs = addresses(i);
        let polls = |h: &&ZabbixHost| {
            h.interfaces
                .iter()
                .any(|f| f.ip.as_ref().is_some_and(|ip| addrs.contains(ip)))
        };
        let Some(host) = hosts.iter().find(polls) else {
            // A host polling a DNS name may be this instance: that cannot be told here.
            if hosts
                .iter()
                .any(|h| h.interfaces.iter().any(|f| f.useip == Some(0)))
            {
                return out;
            }
            let looked: Vec<String> = server.looked_for.iter().map(|n| format!("`{n}`")).collect();
            let found: Vec<String> = hosts
                .iter()
                .map(|h| {
                    let ips: Vec<&str> = h
                        .interfaces
                        .iter()
                        .filter_map(|f| f.ip.as_deref())
                        .collect();
                    format!("`{}` polling {}", h.host, ips.join(", "))
                })
                .collect();
            let mut why = format!(
                "no Zabbix host polls {} (looked for {})",
                addrs.iter().cloned().collect::<Vec<_>>().join(", "),
                if looked.is_empty() {
                    "no name: the instance has no Name tag and [monitoring.zabbix] host is \
                     not set"
                        .to_string()
                } else {
                    looked.join(", ")
                }
            );
            if !found.is_empty() {
                why.push_str(&format!("; found {}", found.join("; ")));
            }
            out.host_problems = Some(vec![why.clone()]);
            out.triggers = Some(Vec::new());
            out.health_missing = Some(vec![format!("{}: {why}", ALARMS.join(", "))]);
            out.alerts_unrouted = Some(vec![why]);
            return out;
        };
        out.host = Some(host.host.clone());
        out.host_problems = host_problems(host);
        let Some(triggers) = &server.triggers else {
            return out;
        };
        let mine: Vec<(&ZabbixTrigger, BTreeSet<&'static str>)> = triggers
            .iter()
            .filter(|t| t.hosts.contains(&host.host))
            .map(|t| (t, covers(t.expression.as_deref().unwrap_or(""), &host.host)))
            .filter(|(_, c)| !c.is_empty())
            .collect();
        let counting: Vec<&(&ZabbixTrigger, BTreeSet<&'static str>)> =
            mine.iter().filter(|(t, _)| counts(t)).collect();
        out.triggers = Some(counting.iter().map(|(t, _)| trigger_name(t)).collect());
        out.health_missing = Some(
            ALARMS
                .iter()
                .filter(|a| !counting.iter().any(|(_, c)| c.contains(*a)))
                .map(|a| {
                    let idle: Vec<String> = mine
                        .iter()
                        .filter(|(t, c)| !counts(t) && c.contains(*a))
                        .map(|(t, _)| format!("{} {}", trigger_name(t), why_idle(t)))
                        .collect();
                    if idle.is_empty() {
                        format!("{a}: no trigger")
                    } else {
                        format!("{a}: only {}", idle.join(", "))
                    }
                })
                .collect(),
        );
        if let (Some(actions), Some(media)) = (&server.actions, &server.media_types) {
            // The triggers left unrouted for one reason, together.
            let mut unrouted: Option<Vec<(String, Vec<String>)>> = Some(Vec::new());
            for (t, _) in &counting {
                match routed(t, host, actions, media) {
                    Ok(()) => {}
                    Err(Some(why)) => {
                        if let Some(u) = &mut unrouted {
                            match u.iter_mut().find(|(w, _)| *w == why) {
                                Some((_, names)) => names.push(trigger_name(t)),
                                None => u.push((why, vec![trigger_name(t)])),
                            }
                        }
                    }
                    Err(None) => unrouted = None,
                }
            }
            out.alerts_unrouted = unrouted.map(|u| {
                u.into_iter()
                    .map(|(why, names)| format!("{}: {why}", crate::text::list_at_most(&names, 3)))
                    .collect()
            });
        }
        out
    }
}

impl Ctx<'_> {
    pub(super) fn zabbix_server(&self, z: &ZabbixServer) -> ZabbixServer {
        let pagerduty_audited = self.pagerduty.audited();
        let media: Option<Vec<&ZabbixMediaType>> = z.media_types.as_ref().map(|ms| {
            ms.iter()
                .filter(|m| is_pagerduty(m) && m.status == Some(0))
                .collect()
        });
        let pagerduty_unresolved = match (&media, pagerduty_audited) {
            (Some(ms), true) => (|| {
                let mut out = Vec::new();
                for m in ms {
                    let digest = m.key_digest.as_deref()?;
                    if !self.pagerduty.resolves(digest)? {
                        out.push(format!(
                            "media type `{}`: its key belongs to no PagerDuty service",
                            media_name(m)
                        ));
                    }
                }
                Some(out)
            })(),
            _ => None,
        };
        ZabbixServer {
            pagerduty_audited: Some(pagerduty_audited),
            pagerduty_media: media.map(|ms| ms.iter().map(|m| media_name(m)).collect()),
            pagerduty_unresolved,
            ..z.clone()
        }
    }
}

/// What keeps `h` from being monitored; `None` when that cannot be told.
fn host_problems(h: &ZabbixHost) -> Option<Vec<String>> {
    let mut problems = Vec::new();
    let mut unknown = false;
    match h.status {
        Some(0) => {}
        Some(_) => problems.push(format!("host `{}` is not monitored (disabled)", h.host)),
        None => unknown = true,
    }
    match (h.maintenance_status, h.maintenance_type) {
        (Some(0), _) => {}
        (Some(1), Some(0)) => {}
        (Some(1), Some(_)) => problems.push(format!(
            "host `{}` is in maintenance without data collection: nothing is collected, no \
             problem is raised",
            h.host
        )),
        _ => unknown = true,
    }
    // Agent, SNMP and JMX interfaces say whether the host answers (IPMI does not).
    let polled: Vec<_> = h
        .interfaces
        .iter()
        .filter(|f| matches!(f.interface_type, Some(1 | 2 | 4)))
        .collect();
    if polled.is_empty() {
        problems.push(format!(
            "host `{}` has no agent, SNMP or JMX interface whose availability Zabbix tracks",
            h.host
        ));
    }
    for f in polled {
        let at = f.ip.as_deref().or(f.dns.as_deref()).unwrap_or("?");
        match f.available {
            Some(1) => {}
            Some(2) => problems.push(format!(
                "host `{}`'s interface on {at} is unavailable{}",
                h.host,
                f.error
                    .as_deref()
                    .map(|e| format!(": `{}`", crate::text::inert(e)))
                    .unwrap_or_default()
            )),
            _ => unknown = true,
        }
    }
    if !problems.is_empty() {
        Some(problems)
    } else if unknown {
        None
    } else {
        Some(problems)
    }
}

/// Enabled, and evaluated without error.
fn counts(t: &ZabbixTrigger) -> bool {
    t.status == Some(0) && t.state == Some(0) && t.error.is_none()
}

fn why_idle(t: &ZabbixTrigger) -> String {
    if t.status != Some(0) {
        "(disabled)".into()
    } else if t.state != Some(0) {
        match &t.error {
            Some(e) => format!("(unknown: `{}`)", crate::text::inert(e)),
            None => "(in the unknown state)".into(),
        }
    } else {
        "(in error)".into()
    }
}

fn trigger_name(t: &ZabbixTrigger) -> String {
    format!(
        "`{}` ({})",
        crate::text::inert(t.description.as_deref().unwrap_or("an unnamed trigger")),
        t.triggerid
    )
}

/// The items (`function`, `key`) of `host` an expanded expression reads: `f(/host/key,…)`.
pub(super) fn items<'e>(expr: &'e str, host: &str) -> Vec<(&'e str, &'e str)> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("(/") {
        let func_start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .map(|p| p + 1)
            .unwrap_or(0);
        let func = &rest[func_start..at];
        let after = &rest[at + 2..];
        let Some(slash) = after.find('/') else { break };
        let h = &after[..slash];
        let key_part = &after[slash + 1..];
        let mut depth = 0i32;
        let mut quoted = false;
        let mut end = key_part.len();
        for (p, c) in key_part.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                ',' | ')' if !quoted && depth <= 0 => {
                    end = p;
                    break;
                }
                _ => {}
            }
        }
        if h == host {
            out.push((func, &key_part[..end]));
        }
        rest = &key_part[end..];
    }
    out
}

/// The spec's health checks an expanded expression on `host` covers, by the item keys it reads.
pub(super) fn covers(expr: &str, host: &str) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for (func, key) in items(expr, host) {
        let k = key.to_ascii_lowercase();
        let starts = |ps: &[&str]| ps.iter().any(|p| k.starts_with(p));
        if func == "nodata"
            || starts(&[
                "rabbitmq.node.running",
                "agent.ping",
                "zabbix[host,agent,available]",
                "zabbix[host,snmp,available]",
                "zabbix[host,jmx,available]",
                "icmpping",
            ])
        {
            out.insert(ALARMS[4]);
        }
        if starts(&[
            "rabbitmq.node.mem_alarm",
            "rabbitmq.node.mem_used",
            "vm.memory.utilization",
            "vm.memory.size[available]",
            "vm.memory.size[pavailable]",
        ]) {
            out.insert(ALARMS[2]);
        }
        if starts(&[
            "rabbitmq.node.disk_free",
            "vfs.fs.size[",
            "vfs.fs.dependent.size[",
        ]) {
            out.insert(ALARMS[3]);
        }
        if starts(&[
            "rabbitmq.overview.queue_totals.messages",
            "rabbitmq.queue.messages",
        ]) {
            out.insert(ALARMS[0]);
        }
        if starts(&[
            "rabbitmq.overview.object_totals.consumers",
            "rabbitmq.queue.consumers",
        ]) {
            out.insert(ALARMS[1]);
        }
    }
    out
}

/// A webhook named for PagerDuty.
fn is_pagerduty(m: &ZabbixMediaType) -> bool {
    m.media_type == Some(4)
        && m.name
            .as_deref()
            .is_some_and(|n| n.to_ascii_lowercase().contains("pagerduty"))
}

fn media_name(m: &ZabbixMediaType) -> String {
    crate::text::inert(m.name.as_deref().unwrap_or(&m.mediatypeid)).to_string()
}

fn action_name(a: &ZabbixAction) -> String {
    format!(
        "`{}`",
        crate::text::inert(a.name.as_deref().unwrap_or(&a.actionid))
    )
}

/// Whether an enabled action sends `t` to PagerDuty now: `Err(Some(why))` when none does,
/// `Err(None)` when that cannot be told.
fn routed(
    t: &ZabbixTrigger,
    host: &ZabbixHost,
    actions: &[ZabbixAction],
    media: &[ZabbixMediaType],
) -> Result<(), Option<String>> {
    let pd: Vec<&ZabbixMediaType> = media.iter().filter(|m| is_pagerduty(m)).collect();
    let live: Vec<&ZabbixMediaType> = pd.iter().copied().filter(|m| m.status == Some(0)).collect();
    let mut unknown = false;
    let mut why: Vec<String> = Vec::new();
    let in_maintenance = host.maintenance_status == Some(1);
    for a in actions {
        if a.status != Some(0) {
            continue;
        }
        match matches(a, t, host) {
            Some(true) => {}
            Some(false) => continue,
            None => {
                unknown = true;
                continue;
            }
        }
        if in_maintenance && a.pause_suppressed != Some(0) {
            why.push(format!(
                "action {} pauses for suppressed problems and the host is in maintenance",
                action_name(a)
            ));
            continue;
        }
        match sends(a, &live) {
            Some(true) => return Ok(()),
            Some(false) => why.push(format!(
                "action {} sends through no enabled PagerDuty media type to a user who has it",
                action_name(a)
            )),
            None => unknown = true,
        }
    }
    if unknown {
        return Err(None);
    }
    if pd.is_empty() {
        why.push("no PagerDuty media type".into());
    } else if live.is_empty() {
        why.push("the PagerDuty media type is disabled".into());
    }
    if why.is_empty() {
        why.push("no enabled trigger action matches it".into());
    }
    Err(Some(why.join("; ")))
}

/// Whether one of `a`'s send-message operations reaches a user with an enabled PagerDuty media
/// type: through that media type, or through all media (`0`). Recipients given only as user
/// groups cannot be told (their members are not read).
fn sends(a: &ZabbixAction, live: &[&ZabbixMediaType]) -> Option<bool> {
    let mut unknown = false;
    for op in a.operations.iter().filter(|o| o.operationtype == Some(0)) {
        let via: Vec<&&ZabbixMediaType> = match op.mediatypeid.as_deref() {
            Some("0") => live.iter().collect(),
            Some(id) => live.iter().filter(|m| m.mediatypeid == id).collect(),
            None => {
                unknown = true;
                continue;
            }
        };
        for m in via {
            match &m.users {
                Some(users) if op.users.iter().any(|u| users.contains(u)) => return Some(true),
                Some(_) => {}
                None if !op.users.is_empty() => unknown = true,
                None => {}
            }
            if !op.groups.is_empty() {
                unknown = true;
            }
        }
    }
    if unknown {
        None
    } else {
        Some(false)
    }
}

/// Whether `a`'s conditions match trigger `t` on `host` (`None`: a condition the audit cannot
/// evaluate decides it).
fn matches(a: &ZabbixAction, t: &ZabbixTrigger, host: &ZabbixHost) -> Option<bool> {
    let value = |c: &ZabbixCondition| condition(c, t, host);
    match a.evaltype {
        Some(1) => all(a.conditions.iter().map(value)),
        Some(2) => any(a.conditions.iter().map(value)),
        Some(3) => formula(a.formula.as_deref()?, &|id| {
            a.conditions
                .iter()
                .find(|c| c.formulaid.as_deref() == Some(id))
                .and_then(value)
        }),
        // And/or: conditions of one type are or-ed, the types and-ed.
        Some(0) => {
            let types: BTreeSet<Option<u8>> =
                a.conditions.iter().map(|c| c.conditiontype).collect();
            all(types.into_iter().map(|ty| {
                any(a
                    .conditions
                    .iter()
                    .filter(|c| c.conditiontype == ty)
                    .map(value))
            }))
        }
        _ if a.conditions.is_empty() => Some(true),
        _ => None,
    }
}

fn all(vs: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut out = Some(true);
    for v in vs {
        match v {
            Some(false) => return Some(false),
            None => out = None,
            Some(true) => {}
        }
    }
    out
}

fn any(vs: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut out = Some(false);
    for v in vs {
        match v {
            Some(true) => return Some(true),
            None => out = None,
            Some(false) => {}
        }
    }
    out
}

/// One condition: host group, host, trigger, event name, severity, template.
fn condition(c: &ZabbixCondition, t: &ZabbixTrigger, host: &ZabbixHost) -> Option<bool> {
    let v = c.value.as_str();
    let eq = |hit: bool| match c.operator {
        Some(0) => Some(hit),
        Some(1) => Some(!hit),
        _ => None,
    };
    match c.conditiontype? {
        0 => eq(host.groups.iter().any(|g| g.id == v)),
        1 => eq(host.hostid == v),
        2 => eq(t.triggerid == v),
        3 => {
            let name = t.description.as_deref()?.to_lowercase();
            let hit = name.contains(&v.to_lowercase());
            match c.operator {
                Some(2) => Some(hit),
                Some(3) => Some(!hit),
                _ => None,
            }
        }
        4 => {
            let p = t.priority?;
            let want: u8 = v.parse().ok()?;
            match c.operator {
                Some(0) => Some(p == want),
                Some(1) => Some(p != want),
                Some(5) => Some(p >= want),
                Some(6) => Some(p <= want),
                _ => None,
            }
        }
        13 => eq(host.templates.iter().any(|x| x.id == v)),
        _ => None,
    }
}

/// A custom formula (`A and (B or not C)`) with each id's value from `value`.
fn formula(text: &str, value: &dyn Fn(&str) -> Option<bool>) -> Option<bool> {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut pos = 0;
    let v = or_expr(&tokens, &mut pos, value)?;
    (pos == tokens.len()).then_some(v)?
}

type Value3 = Option<Option<bool>>;

fn or_expr(ts: &[&str], pos: &mut usize, value: &dyn Fn(&str) -> Option<bool>) -> Value3 {
    let mut parts = vec![and_expr(ts, pos, value)?];
    while ts.get(*pos).is_some_and(|t| t.eq_ignore_ascii_case("or")) {
        *pos += 1;
        parts.push(and_expr(ts, pos, value)?);
    }
    Some(any(parts.into_iter()))
}

fn and_expr(ts: &[&str], pos: &mut usize, value: &dyn Fn(&str) -> Option<bool>) -> Value3 {
    let mut parts = vec![atom(ts, pos, value)?];
    while ts.get(*pos).is_some_and(|t| t.eq_ignore_ascii_case("and")) {
        *pos += 1;
        parts.push(atom(ts, pos, value)?);
    }
    Some(all(parts.into_iter()))
}

/// `None`: the formula cannot be read.
fn atom(ts: &[&str], pos: &mut usize, value: &dyn Fn(&str) -> Option<bool>) -> Value3 {
    let t = *ts.get(*pos)?;
    *pos += 1;
    if t.eq_ignore_ascii_case("not") {
        return Some(atom(ts, pos, value)?.map(|b| !b));
    }
    if t == "(" {
        let v = or_expr(ts, pos, value)?;
        if ts.get(*pos) != Some(&")") {
            return None;
        }
        *pos += 1;
        return Some(v);
    }
    t.chars().all(|c| c.is_ascii_uppercase()).then(|| value(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_read_from_the_expression_with_bracketed_keys() {
        let e = "max(/rabbitmq-1/zabbix[host,agent,available],{$AGENT.TIMEOUT})=0 or \
                 last(/other/rabbitmq.node.mem_alarm)=1 and nodata(/rabbitmq-1/agent.ping,5m)=1";
        assert_eq!(
            items(e, "rabbitmq-1"),
            vec![
                ("max", "zabbix[host,agent,available]"),
                ("nodata", "agent.ping")
            ]
        );
        assert!(covers(e, "rabbitmq-1").contains("node down"));
        assert!(
            !covers(e, "rabbitmq-1").contains("memory alarm"),
            "another host's item covers nothing here"
        );
    }

    #[test]
    fn custom_formulas_are_evaluated_three_valued() {
        let v = |id: &str| match id {
            "A" => Some(true),
            "B" => Some(false),
            _ => None,
        };
        assert_eq!(formula("A and B", &v), Some(false));
        assert_eq!(formula("A or B", &v), Some(true));
        assert_eq!(formula("A and (B or not B)", &v), Some(true));
        assert_eq!(formula("A and C", &v), None);
        assert_eq!(formula("B and C", &v), Some(false));
        assert_eq!(formula("A and (B", &v), None);
    }
}
