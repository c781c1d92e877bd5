//! Waiver files: arbitrary bytes as a waiver file; a set that loads is checked against the
//! built-in rules and applied to the demo audit.
#![no_main]

use estate_audit::audit;
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::decode(data, "fuzz.toml", "waiver file") else {
        return;
    };
    match WaiverSet::parse(&text, "fuzz.toml") {
        Err(ds) => {
            assert!(!ds.is_empty());
            ds.0.iter().for_each(common::check);
        }
        Ok(waivers) => {
            let policies = PolicySet::builtin().expect("built-in rules");
            let _ = waivers.check_rules(&|id| policies.get(id).is_some());
            let r = audit::run(
                estate_audit::model::json::demo_inventory(),
                None,
                &policies,
                &waivers,
                common::now(),
            );
            common::check_report(&r);
        }
    }
});
