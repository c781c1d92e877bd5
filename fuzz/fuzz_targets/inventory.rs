//! Inventory files: arbitrary bytes through the decoder and the parser (single inventories and
//! bundles); whatever parses is linked, evaluated with the built-in rules and rendered.
#![no_main]

use estate_audit::audit;
use estate_audit::policy::PolicySet;
use estate_audit::suppress::WaiverSet;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::decode(data, "fuzz.json", "inventory") else {
        return;
    };
    match estate_audit::model::json::parse_inventories(&text, "fuzz.json") {
        Err(d) => common::check(&d),
        Ok(invs) => {
            let policies = PolicySet::builtin().expect("built-in rules");
            for inv in invs {
                let r = audit::run(inv, None, &policies, &WaiverSet::empty(), common::now());
                common::check_report(&r);
            }
        }
    }
});
