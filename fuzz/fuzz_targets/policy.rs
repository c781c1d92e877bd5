//! Policy files: arbitrary bytes as a rule file; a rule set that loads is evaluated over the
//! demo inventory (arbitrary CEL against real facts) and rendered.
#![no_main]

use estate_audit::audit;
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::decode(data, "fuzz.toml", "policy file") else {
        return;
    };
    match PolicySet::parse(&text, "fuzz.toml") {
        Err(ds) => {
            assert!(!ds.is_empty());
            ds.0.iter().for_each(common::check);
        }
        Ok(policies) => {
            let r = audit::run(
                estate_audit::model::json::demo_inventory(),
                None,
                &policies,
                &WaiverSet::empty(),
                common::now(),
            );
            common::check_report(&r);
        }
    }
});
