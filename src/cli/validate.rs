//! `estate-audit validate`: every input file given (policies, waivers, estate.toml, inventory)
//! checked at once, all their problems reported together, and a one-line summary on stderr when
//! they are sound. It must not audit anything nor write a file.

use super::{load_config, load_policies, Io, ValidateArgs, EXIT_OK};
use crate::diag::Diagnostics;
use crate::suppress::WaiverSet;

pub(super) fn cmd_validate(v: ValidateArgs, io: &mut Io<'_>) -> Result<i32, Diagnostics> {
    // Collect the problems of every file, not just the first failing one.
    let mut all = Diagnostics::default();
    let policies = match load_policies(v.policies.as_deref()) {
        Ok(p) => Some(p),
        Err(d) => {
            all.0.extend(d.0);
            None
        }
    };
    let mut waiver_count = 0;
    if let Some(p) = &v.waivers {
        match WaiverSet::load(p) {
            Ok(w) => {
                waiver_count = w.len();
                if let Some(policies) = &policies {
                    all.0
                        .extend(w.check_rules(&|id| policies.get(id).is_some()).0);
                }
            }
            Err(d) => all.0.extend(d.0),
        }
    }
    if let Err(d) = load_config(v.config.as_deref()) {
        all.0.extend(d.0);
    }
    let mut resources = None;
    if let Some(p) = &v.inventory {
        match crate::model::json::load_inventories(p) {
            Ok(invs) => resources = Some(invs.iter().map(|i| i.resources.len()).sum::<usize>()),
            Err(d) => all.push(d),
        }
    }
    if !all.is_empty() {
        return Err(all);
    }
    let rules = policies.map_or(0, |p| p.rules().len());
    let mut msg = format!("ok: {rules} rules");
    if v.waivers.is_some() {
        msg.push_str(&format!(", {waiver_count} waivers"));
    }
    if v.config.is_some() {
        msg.push_str(", estate config");
    }
    if let Some(n) = resources {
        msg.push_str(&format!(", inventory of {n} resources"));
    }
    let _ = writeln!(io.stderr, "{msg}");
    Ok(EXIT_OK)
}
