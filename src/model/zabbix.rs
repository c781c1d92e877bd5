//! The attributes of the Zabbix kind (its JSON-RPC API, read with an API token) and the facts
//! `link` derives from it on the RabbitMQ instance: the Zabbix host that monitors the instance,
//! whether it is monitored and its interface available, which enabled triggers cover the host's
//! health, whether an enabled trigger action sends them through an enabled PagerDuty media type,
//! and whether that media type's key belongs to a PagerDuty service. Data only
//! (docs/design.md §3): `null` is unknown, and no integration key is held, only its digest.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One Zabbix server (its frontend's `api_jsonrpc.php`), as the token's user sees it. Zabbix
/// sends every number as a string; the enumerations are kept as numbers here.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixServer {
    pub url: Option<String>,
    /// `apiinfo.version`, e.g. `7.0.21`.
    #[serde(default)]
    pub version: Option<String>,
    /// The technical host names looked for (`[monitoring.zabbix] host`, else the RabbitMQ
    /// instances' `Name` tags).
    #[serde(default)]
    pub looked_for: Vec<String>,
    /// The hosts of those names (`null`: not read, here and below).
    #[serde(default)]
    pub hosts: Option<Vec<ZabbixHost>>,
    /// Those hosts' triggers, expressions expanded.
    #[serde(default)]
    pub triggers: Option<Vec<ZabbixTrigger>>,
    /// Trigger actions (event source 0).
    #[serde(default)]
    pub actions: Option<Vec<ZabbixAction>>,
    #[serde(default)]
    pub media_types: Option<Vec<ZabbixMediaType>>,
    /// *Derived*: whether PagerDuty is audited (the key check applies).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub pagerduty_audited: Option<bool>,
    /// *Derived*: the enabled PagerDuty media types.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub pagerduty_media: Option<Vec<String>>,
    /// *Derived*: PagerDuty media types whose key belongs to no PagerDuty service.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub pagerduty_unresolved: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixHost {
    pub hostid: String,
    /// The technical name.
    pub host: String,
    /// 0 monitored, 1 not monitored.
    #[serde(default)]
    pub status: Option<u8>,
    /// 1: in maintenance now.
    #[serde(default)]
    pub maintenance_status: Option<u8>,
    /// 0 with data collection, 1 without.
    #[serde(default)]
    pub maintenance_type: Option<u8>,
    #[serde(default)]
    pub interfaces: Vec<ZabbixInterface>,
    /// Host group ids and names.
    #[serde(default)]
    pub groups: Vec<ZabbixRef>,
    /// Linked template ids and names.
    #[serde(default)]
    pub templates: Vec<ZabbixRef>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixInterface {
    /// 1 agent, 2 SNMP, 3 IPMI, 4 JMX.
    #[serde(rename = "type", default)]
    pub interface_type: Option<u8>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub dns: Option<String>,
    /// 1: polled on `ip`, 0: on `dns`.
    #[serde(default)]
    pub useip: Option<u8>,
    /// 0 unknown, 1 available, 2 unavailable.
    #[serde(default)]
    pub available: Option<u8>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixRef {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixTrigger {
    pub triggerid: String,
    /// What it says it watches (never trusted: the expression decides).
    #[serde(default)]
    pub description: Option<String>,
    /// The expanded expression (`last(/host/key)=1`).
    #[serde(default)]
    pub expression: Option<String>,
    /// 0 not classified … 5 disaster.
    #[serde(default)]
    pub priority: Option<u8>,
    /// 0 enabled, 1 disabled.
    #[serde(default)]
    pub status: Option<u8>,
    /// 0 normal, 1 unknown (cannot be evaluated).
    #[serde(default)]
    pub state: Option<u8>,
    #[serde(default)]
    pub error: Option<String>,
    /// The technical names of its hosts.
    #[serde(default)]
    pub hosts: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixAction {
    pub actionid: String,
    #[serde(default)]
    pub name: Option<String>,
    /// 0 enabled, 1 disabled.
    #[serde(default)]
    pub status: Option<u8>,
    /// 1: operations pause for suppressed problems (a host in maintenance).
    #[serde(default)]
    pub pause_suppressed: Option<u8>,
    /// 0 and/or, 1 and, 2 or, 3 custom formula.
    #[serde(default)]
    pub evaltype: Option<u8>,
    /// The custom formula (`A and (B or C)`).
    #[serde(default)]
    pub formula: Option<String>,
    #[serde(default)]
    pub conditions: Vec<ZabbixCondition>,
    #[serde(default)]
    pub operations: Vec<ZabbixOperation>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixCondition {
    /// 0 host group, 1 host, 2 trigger, 3 event name, 4 severity, 13 template, …
    #[serde(default)]
    pub conditiontype: Option<u8>,
    /// 0 equals, 1 does not equal, 2 contains, 3 does not contain, 5 ≥, 6 ≤, …
    #[serde(default)]
    pub operator: Option<u8>,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub formulaid: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixOperation {
    /// 0 send message.
    #[serde(default)]
    pub operationtype: Option<u8>,
    /// The media type sent through; `0` = every media type of the recipients.
    #[serde(default)]
    pub mediatypeid: Option<String>,
    /// Recipient user ids.
    #[serde(default)]
    pub users: Vec<String>,
    /// Recipient user group ids.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ZabbixMediaType {
    pub mediatypeid: String,
    #[serde(default)]
    pub name: Option<String>,
    /// 0 email, 1 script, 2 SMS, 4 webhook.
    #[serde(rename = "type", default)]
    pub media_type: Option<u8>,
    /// 0 enabled, 1 disabled.
    #[serde(default)]
    pub status: Option<u8>,
    /// Users with this media type (who it can reach); `null`: not read.
    #[serde(default)]
    pub users: Option<Vec<String>>,
    /// The digest of the PagerDuty key in its `token` parameter; `null`: not read.
    #[serde(default)]
    pub key_digest: Option<String>,
    /// Why the key could not be read (the parameters refused, or the key in users' media).
    #[serde(default)]
    pub key_unread: Option<String>,
}

/// *Derived*, on the RabbitMQ instance: what Zabbix says of it. Each list is `null` when what
/// decides it could not be read.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct HostZabbix {
    pub audited: bool,
    /// The Zabbix host that monitors the instance.
    #[serde(default)]
    pub host: Option<String>,
    /// What keeps the host from being monitored (missing, disabled, in maintenance without data
    /// collection, interface unavailable).
    #[serde(default)]
    pub host_problems: Option<Vec<String>>,
    /// Enabled, evaluable triggers covering the host's health.
    #[serde(default)]
    pub triggers: Option<Vec<String>>,
    /// The health checks no such trigger covers.
    #[serde(default)]
    pub health_missing: Option<Vec<String>>,
    /// Those triggers no enabled action sends to PagerDuty, and why.
    #[serde(default)]
    pub alerts_unrouted: Option<Vec<String>>,
}
