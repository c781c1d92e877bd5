//! estate.toml: arbitrary bytes as the estate configuration; one that loads selects the estate
//! in the demo inventory (tiers, components, Cloudflare host), which is then audited.
#![no_main]

use estate_audit::audit;
use estate_audit::model::EstateConfig;
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::decode(data, "estate.toml", "configuration") else {
        return;
    };
    match EstateConfig::parse(&text, "estate.toml") {
        Err(ds) => {
            assert!(!ds.is_empty());
            ds.0.iter().for_each(common::check);
        }
        Ok(config) => {
            let policies = PolicySet::builtin().expect("built-in rules");
            let r = audit::run(
                estate_audit::model::json::demo_inventory(),
                Some(config),
                &policies,
                &WaiverSet::empty(),
                common::now(),
            );
            common::check_report(&r);
        }
    }
});
