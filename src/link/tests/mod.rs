//! Facts `link` derives, one behaviour per test, on the hand-built estate of `testkit`: a file
//! per concern, and here the helpers they share and the measurement over a large inventory.

mod alarms;
mod cloudflare;
mod coverage;
mod edge;
mod facts;
mod origin;
mod reach;
mod users;

use super::testkit::*;
use super::*;
use crate::model::{CollectionError, ErrorKind};

fn linked(mut inv: Inventory) -> Inventory {
    link(&mut inv);
    inv
}

fn estate_facts(inv: &Inventory) -> EstateFacts {
    inv.resources
        .iter()
        .find_map(|r| match &r.attrs {
            Attrs::Estate(e) => Some(e.clone()),
            _ => None,
        })
        .expect("estate record")
}

fn error(kind: &str) -> CollectionError {
    CollectionError {
        provider: "aws".into(),
        service: "x".into(),
        kinds: vec![kind.into()],
        kind: ErrorKind::AccessDenied,
        message: "denied".into(),
        region: None,
        account: None,
    }
}

// A measurement, not a timed test (targets live in benchmarks): run it with
// `cargo test --release --lib -- --ignored --nocapture links_eighty`.
#[test]
#[ignore = "measurement: run with --release -- --ignored"]
fn links_eighty_thousand_resources() {
    let mut inv = estate();
    let n = 16_000;
    for i in 0..n {
        let sub = format!("subnet-n{i}");
        let tier = ["public", "compute", "database"][i % 3];
        inv.resources.push(subnet(
            &sub,
            "vpc-1",
            &format!("10.{}.{}.0/24", 100 + i / 256 % 100, i % 256),
            tier,
            "eu-west-1a",
        ));
        inv.resources.push(sg(
            &format!("sg-n{i}"),
            vec![tcp(
                443,
                &["0.0.0.0/0", "10.0.0.0/8"],
                &[&format!("sg-n{}", i / 2)],
            )],
        ));
        let mut inst = res(
            arn("ec2", &format!("instance/i-n{i}")),
            Attrs::Instance(Instance {
                instance_id: Some(format!("i-n{i}")),
                subnet_id: Some(sub.clone()),
                has_public_ip: Some(i % 2 == 0),
                security_group_ids: Some(vec![format!("sg-n{i}")]),
                ..Default::default()
            }),
        );
        inst.region = Some(REGION.into());
        inv.resources.push(inst);
        inv.resources.push(res(
            arn("rds", &format!("db:db-n{i}")),
            Attrs::DbInstance(DbInstance {
                db_instance_identifier: Some(format!("db-n{i}")),
                publicly_accessible: Some(true),
                subnet_ids: Some(vec![sub.clone(), "subnet-pub".into()]),
                security_group_ids: Some(vec![format!("sg-n{i}")]),
                parameter_group_names: Some(vec!["estate-mysql".into()]),
                ..Default::default()
            }),
        ));
        inv.resources.push(alarm(
            &format!("a-n{i}"),
            &[("DBInstanceIdentifier", &format!("db-n{i}"))],
            &[&topic_arn()],
        ));
        if i % 4 == 0 {
            inv.resources.push(route_table(
                &format!("rtb-n{i}"),
                "vpc-1",
                false,
                &[&sub],
                vec![route("0.0.0.0/0", "internet_gateway", "igw-1")],
            ));
        }
    }
    assert!(inv.resources.len() >= 80_000, "{}", inv.resources.len());
    let t = std::time::Instant::now();
    link(&mut inv);
    let took = t.elapsed();
    eprintln!("linked {} resources in {took:?}", inv.resources.len());
}
