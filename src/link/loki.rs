//! Loki's part of the monitoring plane, derived on the components whose logs it should hold: the
//! ECS processor service (`ecs_streams`) and the webhook function (`webhook_streams`) each get
//! the lines Loki holds from their streams in the last hour, and a sentence saying what Loki
//! answered or why that is unknown (a key not set, a selector refused, Loki not read). It owns
//! [`LokiIndex`]; it must not take a count it cannot tie to the configured selector: a server
//! that counted another selector, or a selector that could not tell the sources apart, leaves
//! the count `null`.

use crate::model::{
    check_selector, check_selector_pair, CollectionError, ComponentLoki, EstateConfig, LokiConfig,
    LokiServer, LokiSource, MonitoringProvider,
};

/// The spec's two log sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    Ecs,
    Webhook,
}

impl Source {
    /// The `[monitoring.loki]` key naming its streams (and the collector's service name).
    fn key(self) -> &'static str {
        match self {
            Source::Ecs => "ecs_streams",
            Source::Webhook => "webhook_streams",
        }
    }

    /// The component, and the key of `estate.toml` naming it.
    fn component(self) -> &'static str {
        match self {
            Source::Ecs => "the processor service ([components] ecs_service in ecs_cluster)",
            Source::Webhook => "the webhook function ([components] webhook_function)",
        }
    }

    fn whose(self) -> &'static str {
        match self {
            Source::Ecs => "the ECS processors'",
            Source::Webhook => "the webhook function's",
        }
    }
}

#[derive(Default)]
pub(super) struct LokiIndex<'a> {
    audited: bool,
    config: Option<&'a LokiConfig>,
    server: Option<&'a LokiServer>,
    /// Loki's collection errors.
    errors: Vec<&'a CollectionError>,
}

impl<'a> LokiIndex<'a> {
    pub(super) fn new(cfg: &'a EstateConfig, errors: &'a [CollectionError]) -> Self {
        LokiIndex {
            audited: cfg.audits(MonitoringProvider::Loki),
            config: cfg.monitoring.as_ref().and_then(|m| m.loki.as_ref()),
            server: None,
            errors: errors.iter().filter(|e| e.provider == "loki").collect(),
        }
    }

    /// One Loki is configured: the first in the inventory.
    pub(super) fn add(&mut self, s: &'a LokiServer) {
        self.server.get_or_insert(s);
    }

    /// The fact on a resource that `is_it` says is the component of `source` (`None`: that could
    /// not be told, so its logs are unknown rather than not judged); `None` when Loki is not
    /// audited or the resource is another.
    pub(super) fn component(&self, source: Source, is_it: Option<bool>) -> Option<ComponentLoki> {
        if !self.audited || is_it == Some(false) {
            return None;
        }
        let key = source.key();
        let selector = self.config.and_then(|c| match source {
            Source::Ecs => c.ecs_streams.clone(),
            Source::Webhook => c.webhook_streams.clone(),
        });
        let mut out = ComponentLoki {
            key: key.to_string(),
            selector: selector.clone(),
            lines_last_hour: None,
            state: String::new(),
        };
        if is_it.is_none() {
            out.state = format!(
                "whether this is {} cannot be told (what names it was not read), so \
                 neither can whether Loki holds its logs",
                source.component()
            );
            return Some(out);
        }
        out.state = match self.count(source, selector.as_deref()) {
            Ok(n) => {
                out.lines_last_hour = Some(n);
                let sel = selector.as_deref().unwrap_or_default().trim();
                let end = self
                    .server
                    .and_then(|s| s.window_end)
                    .map(|t| format!(" to {}", t.format("%Y-%m-%dT%H:%M:%SZ")))
                    .unwrap_or_default();
                match n {
                    0 => format!(
                        "Loki holds no line from {} streams `{sel}` in the hour{end}",
                        source.whose()
                    ),
                    n => format!(
                        "Loki holds {n} line{} from {} streams `{sel}` in the hour{end}",
                        if n == 1 { "" } else { "s" },
                        source.whose()
                    ),
                }
            }
            Err(why) => why,
        };
        Some(out)
    }

    /// The lines counted for `source`'s selector, or why they are unknown (a sentence).
    fn count(&self, source: Source, selector: Option<&str>) -> Result<u64, String> {
        let key = source.key();
        let Some(sel) = selector else {
            return Err(format!(
                "[monitoring.loki] {key} is not set, so Loki was not asked for {} logs: give \
                 the LogQL stream selector of its streams",
                source.whose()
            ));
        };
        if let Err(why) = check_selector(sel) {
            return Err(format!(
                "[monitoring.loki] {key} `{}` is refused: {why}",
                sel.trim()
            ));
        }
        if let Some(c) = self.config {
            if let (Some(e), Some(w)) = (&c.ecs_streams, &c.webhook_streams) {
                check_selector_pair(e, w).map_err(|why| format!("[monitoring.loki]: {why}"))?;
            }
        }
        let errors: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| {
                e.service == key || !matches!(e.service.as_str(), "ecs_streams" | "webhook_streams")
            })
            .map(|e| e.message.as_str())
            .collect();
        let Some(server) = self.server else {
            return Err(if errors.is_empty() {
                "Loki was not read".to_string()
            } else {
                format!("Loki was not read: {}", errors.join("; "))
            });
        };
        let read: &LokiSource = match source {
            Source::Ecs => &server.ecs,
            Source::Webhook => &server.webhook,
        };
        if read.selector.as_deref().map(str::trim) != Some(sel.trim()) {
            return Err(format!(
                "Loki's answer is for the streams `{}`, not for [monitoring.loki] {key} `{}`",
                read.selector.as_deref().unwrap_or("(none)"),
                sel.trim()
            ));
        }
        read.lines_last_hour.ok_or_else(|| {
            if errors.is_empty() {
                format!("Loki's count of {} lines was not read", source.whose())
            } else {
                errors.join("; ")
            }
        })
    }
}
