//! What the command line asks of AWS collection: where to reach AWS ([`AwsOptions`]) and which
//! roles to audit accounts through ([`AssumeRole`]). Plain data at the bottom of `collect::aws`:
//! it must not import the modules that act on it.

/// How to reach AWS. Every field is optional: the SDK's default chain (environment, `~/.aws`
/// profiles, SSO, web identity, IMDS; `AWS_ENDPOINT_URL`) fills what is not given.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    /// `--region`; else `region` of estate.toml; else the SDK's chain.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--endpoint-url` (the SDK also honours `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Attempts per call, retries included (adaptive retry); default 4.
    pub max_attempts: Option<u32>,
    /// Show the calls being made on stderr, one line redrawn in place. The caller sets it only
    /// when stderr is a terminal: logs and pipes must not fill with control codes.
    pub progress: bool,
    /// `--regions R,R`: the regions besides the home one to scan for estate resources; `None`
    /// (`--regions all`, the default) scans every enabled region.
    pub scan_regions: Option<Vec<String>>,
    /// `--assume-role`: audit these accounts (each through its role) instead of the caller's.
    pub roles: Vec<AssumeRole>,
    /// `--org-role NAME`: audit every ACTIVE account of the caller's organization through the
    /// role of this name, with this external id (`--external-id`), if any.
    pub org_role: Option<AssumeRole>,
    /// The collection's deadline (`--timeout`): a service still pending then is a collection
    /// error, the others keep their data.
    pub deadline: Option<crate::collect::Deadline>,
}

/// A role to audit an account through (`--assume-role ARN [--external-id ID]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssumeRole {
    /// The role's ARN (for `org_role`: the role's name).
    pub arn: String,
    pub external_id: Option<String>,
}

impl AssumeRole {
    /// The account of `arn:<partition>:iam::<account>:role/<name>`, when the ARN says.
    pub fn account(&self) -> Option<String> {
        let account = self.arn.split(':').nth(4)?;
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
            .then(|| account.to_string())
    }
}
