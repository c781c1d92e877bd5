//! Custom-rule `skip`s: which phases, managed rulesets and managed rules a `skip` takes away
//! from a webhook request, and whether for every such request or for some (a condition the
//! client controls). It only describes reach; the rules judged after it subtract it.

use super::*;

/// Where the custom rules' `skip` actions reach webhook requests, in rule order: a skip of the
/// rest of the ruleset that matches a webhook request takes the later skips away from it.
pub(super) fn skips(custom: &Phase, host: &str, path: &str) -> Skips {
    let mut out = Skips::default();
    if !custom.deployed {
        return out;
    }
    let req = Request::new(host, path);
    // Whether later custom rules still see a webhook request: every one, some, or none.
    let mut reach = Truth::True;
    for r in &custom.rules {
        if r.action.as_deref() != Some("skip") || enabled(r) == Some(false) {
            continue;
        }
        let Some(skip) = &r.skip else {
            out.opaque
                .push(format!("rule {}: a skip without parameters", rid(r)));
            continue;
        };
        let j = judged(r, &req);
        if j.truth == Truth::False {
            continue;
        }
        if j.opaque || enabled(r).is_none() {
            out.opaque.push(format!(
                "rule {}: a skip whose expression cannot be evaluated: {}",
                rid(r),
                shown(r)
            ));
            continue;
        }
        let t = reach.and(j.truth);
        if t == Truth::False {
            continue;
        }
        let how = |what: &str| match t {
            Truth::True => format!(
                "custom rule {} skips {what} for every webhook request",
                rid(r)
            ),
            _ => format!(
                "custom rule {} skips {what} for webhook requests matching {}",
                rid(r),
                shown(r)
            ),
        };
        for ph in &skip.phases {
            out.phases
                .entry(ph.clone())
                .or_default()
                .push((t, how(&format!("the {ph} phase"))));
        }
        for rs in &skip.rulesets {
            out.rulesets
                .entry(rs.clone())
                .or_default()
                .push((t, how(&format!("managed ruleset {}", ruleset_name(rs)))));
        }
        for (rs, ids) in &skip.rules {
            out.rules.push(how(&format!(
                "{} rule(s) of {} ({})",
                ids.len(),
                ruleset_name(rs),
                ids.join(", ")
            )));
        }
        if skip.current_ruleset {
            reach = reach.and(t.not());
        }
    }
    out
}
