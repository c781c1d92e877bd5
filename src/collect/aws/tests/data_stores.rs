//! The RDS and ElastiCache normalizers, field by field from the SDK's own builders: DB instances
//! and parameter groups; cache clusters, replication groups and subnet groups.

use super::*;

#[test]
fn db_instance_and_parameter_group() {
    use aws_sdk_rds::types::*;
    let d = DbInstance::builder()
        .db_instance_identifier("estate-db")
        .db_instance_arn("arn:aws:rds:eu-west-1:111122223333:db:estate-db")
        .engine("mysql")
        .engine_version("8.0.39")
        .db_instance_class("db.r6g.large")
        .db_instance_status("available")
        .publicly_accessible(false)
        .storage_encrypted(true)
        .multi_az(true)
        .db_subnet_group(
            DbSubnetGroup::builder()
                .db_subnet_group_name("estate-db")
                .vpc_id("vpc-1")
                .subnets(Subnet::builder().subnet_identifier("subnet-a").build())
                .subnets(Subnet::builder().subnet_identifier("subnet-b").build())
                .build(),
        )
        .vpc_security_groups(
            VpcSecurityGroupMembership::builder()
                .vpc_security_group_id("sg-db")
                .build(),
        )
        .db_parameter_groups(
            DbParameterGroupStatus::builder()
                .db_parameter_group_name("estate-mysql80")
                .parameter_apply_status("pending-reboot")
                .build(),
        )
        .endpoint(Endpoint::builder().address("db.example").port(3306).build())
        .tag_list(Tag::builder().key("estate").value("audit").build())
        .build();
    let r = rds::normalize_db_instance(&ctx(), &d).expect("db");
    assert_eq!(r.id, "arn:aws:rds:eu-west-1:111122223333:db:estate-db");
    assert_eq!(r.name.as_deref(), Some("estate-db"));
    assert_eq!(r.tags.get("estate").map(String::as_str), Some("audit"));
    let Attrs::DbInstance(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.engine.as_deref(), Some("mysql"));
    assert_eq!(a.engine_version.as_deref(), Some("8.0.39"));
    assert_eq!(a.db_instance_class.as_deref(), Some("db.r6g.large"));
    assert_eq!(a.status.as_deref(), Some("available"));
    assert_eq!(a.publicly_accessible, Some(false));
    assert_eq!(a.storage_encrypted, Some(true));
    assert_eq!(a.multi_az, Some(true));
    assert_eq!(a.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(a.db_subnet_group_name.as_deref(), Some("estate-db"));
    assert_eq!(
        a.subnet_ids.as_deref(),
        Some(&["subnet-a".to_string(), "subnet-b".to_string()][..])
    );
    assert_eq!(
        a.security_group_ids.as_deref(),
        Some(&["sg-db".to_string()][..])
    );
    assert_eq!(
        a.parameter_group_names.as_deref(),
        Some(&["estate-mysql80".to_string()][..])
    );
    assert_eq!(
        a.parameter_apply_status,
        Some([("estate-mysql80".to_string(), "pending-reboot".to_string())].into())
    );
    assert_eq!(a.endpoint_address.as_deref(), Some("db.example"));
    assert_eq!(a.endpoint_port, Some(3306));
    // A group named without its apply status: whether any group holds is unknown.
    let unstated = DbInstance::builder()
        .db_instance_identifier("y")
        .db_parameter_groups(
            DbParameterGroupStatus::builder()
                .db_parameter_group_name("estate-mysql80")
                .build(),
        )
        .build();
    let Attrs::DbInstance(a) = rds::normalize_db_instance(&ctx(), &unstated)
        .expect("db")
        .attrs
    else {
        panic!()
    };
    assert_eq!(a.parameter_apply_status, None);

    // Cut off before the flags: unknown, not false.
    let cut = DbInstance::builder().db_instance_identifier("x").build();
    let Attrs::DbInstance(a) = rds::normalize_db_instance(&ctx(), &cut).expect("db").attrs else {
        panic!()
    };
    assert_eq!((a.publicly_accessible, a.storage_encrypted), (None, None));
    assert_eq!(a.subnet_ids, None);

    let g = DbParameterGroup::builder()
        .db_parameter_group_name("estate-mysql80")
        .db_parameter_group_family("mysql8.0")
        .build();
    let on = Parameter::builder()
        .parameter_name("require_secure_transport")
        .parameter_value("1")
        .build();
    let other = Parameter::builder()
        .parameter_name("max_connections")
        .parameter_value("100")
        .build();
    let r = rds::normalize_parameter_group(&ctx(), "estate-mysql80", Some(&g), &[&other, &on]);
    assert_eq!(r.id, "arn:aws:rds:eu-west-1:111122223333:pg:estate-mysql80");
    let Attrs::DbParameterGroup(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.family.as_deref(), Some("mysql8.0"));
    let p = a.parameters.as_ref().expect("params");
    assert_eq!(p.len(), 1, "only what rules read");
    assert_eq!(p["require_secure_transport"].as_deref(), Some("1"));
    let r = rds::normalize_parameter_group(&ctx(), "default.mysql8.0", None, &[]);
    let Attrs::DbParameterGroup(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(
        a.parameters.as_ref().expect("p")["require_secure_transport"],
        None
    );
}

#[test]
fn cache_cluster_replication_group_and_subnet_group() {
    use aws_sdk_elasticache::types::*;
    let c = CacheCluster::builder()
        .cache_cluster_id("estate-redis-001")
        .arn("arn:aws:elasticache:eu-west-1:111122223333:cluster:estate-redis-001")
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.t4g.medium")
        .cache_cluster_status("available")
        .replication_group_id("estate-redis")
        .cache_subnet_group_name("estate-cache")
        .security_groups(
            SecurityGroupMembership::builder()
                .security_group_id("sg-redis")
                .build(),
        )
        .at_rest_encryption_enabled(true)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(TransitEncryptionMode::Preferred)
        .auth_token_enabled(false)
        .build();
    let r = elasticache::normalize_cache_cluster(&ctx(), &c).expect("cluster");
    assert_eq!(
        r.id,
        "arn:aws:elasticache:eu-west-1:111122223333:cluster:estate-redis-001"
    );
    let Attrs::CacheCluster(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.engine.as_deref(), Some("redis"));
    assert_eq!(a.engine_version.as_deref(), Some("7.1"));
    assert_eq!(a.cache_node_type.as_deref(), Some("cache.t4g.medium"));
    assert_eq!(a.status.as_deref(), Some("available"));
    assert_eq!(a.replication_group_id.as_deref(), Some("estate-redis"));
    assert_eq!(a.cache_subnet_group_name.as_deref(), Some("estate-cache"));
    assert_eq!(
        a.security_group_ids.as_deref(),
        Some(&["sg-redis".to_string()][..])
    );
    assert_eq!(a.at_rest_encryption_enabled, Some(true));
    assert_eq!(a.transit_encryption_enabled, Some(true));
    assert_eq!(a.transit_encryption_mode.as_deref(), Some("preferred"));
    assert_eq!(a.auth_token_enabled, Some(false));

    let g = ReplicationGroup::builder()
        .replication_group_id("estate-redis")
        .status("available")
        .member_clusters("estate-redis-001")
        .at_rest_encryption_enabled(true)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(TransitEncryptionMode::Required)
        .auth_token_enabled(true)
        .user_group_ids("ug-1")
        .build();
    let r = elasticache::normalize_replication_group(&ctx(), &g).expect("rg");
    assert_eq!(
        r.id,
        "arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:estate-redis"
    );
    let Attrs::CacheReplicationGroup(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.member_clusters, ["estate-redis-001"]);
    assert_eq!(a.transit_encryption_mode.as_deref(), Some("required"));
    assert_eq!(a.auth_token_enabled, Some(true));
    assert_eq!(a.user_group_ids.as_deref(), Some(&["ug-1".to_string()][..]));
    assert_eq!(a.at_rest_encryption_enabled, Some(true));

    let sg = CacheSubnetGroup::builder()
        .cache_subnet_group_name("estate-cache")
        .vpc_id("vpc-1")
        .subnets(Subnet::builder().subnet_identifier("subnet-a").build())
        .build();
    let r = elasticache::normalize_subnet_group(&ctx(), &sg).expect("sg");
    assert_eq!(
        r.id,
        "arn:aws:elasticache:eu-west-1:111122223333:subnetgroup:estate-cache"
    );
    let Attrs::CacheSubnetGroup(a) = &r.attrs else {
        panic!()
    };
    assert_eq!(a.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(a.subnet_ids.as_deref(), Some(&["subnet-a".to_string()][..]));
}
