//! Command-line definitions (clap derive) only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "launchgate",
    version,
    about = "Decides whether a funnel is ready for paid traffic: one launch.yml policy, a pass/fail verdict.",
    after_help = "Exit codes: 0 gate passed, 1 gate failed, 2 usage or policy error, 3 internal error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every check in the policy and report a verdict.
    Check(CheckArgs),
    /// Scan a tree or git history for secrets (gitleaks-compatible).
    Secrets(SecretsArgs),
    /// DNS drift: snapshot the records the policy reads, or diff live answers against the lock.
    Dns {
        #[command(subcommand)]
        command: DnsCommand,
    },
    /// Judge Lighthouse reports with Lighthouse CI assertions.
    Lighthouse(LighthouseArgs),
    /// Probe a domain and write a starter launch.yml.
    Init(InitArgs),
    /// Print the JSON Schema of launch.yml.
    Schema,
    /// Explain why a check matters and how to fix it.
    Explain {
        /// A check id such as `tls.expiry`; without one, lists every id.
        id: Option<String>,
    },
    /// Run the real gate against a built-in local funnel with known faults (offline).
    Demo(OutputArgs),
    /// Combine JSON reports into one verdict (e.g. a fleet checked as a matrix).
    Merge(MergeArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Output format: human, json, markdown, sarif, junit. Repeatable; pairs with --out in order.
    #[arg(long = "format", short = 'f', value_name = "F")]
    pub format: Vec<String>,
    /// Where to write the matching --format (stdout without one).
    #[arg(long = "out", short = 'o', value_name = "PATH")]
    pub out: Vec<PathBuf>,
    /// No colours in the terminal report.
    #[arg(long)]
    pub no_color: bool,
    /// Only the failures and the verdict.
    #[arg(short, long)]
    pub quiet: bool,
    /// List every passed check too.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct CheckArgs {
    /// The policy file.
    #[arg(short, long, default_value = "launch.yml")]
    pub policy: PathBuf,
    /// Only these check kinds (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Skip these check kinds (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Fail the gate at this severity or worse: blocker (default) or warning.
    #[arg(long, value_name = "blocker|warning")]
    pub fail_on: Option<String>,
    /// HOST:PORT:ADDR[:PORT2], as curl's --resolve (and --connect-to with PORT2).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Set a policy variable (overrides the environment).
    #[arg(long, value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Report to GitHub (check run, step summary, outputs).
    #[arg(long)]
    pub github: bool,
    /// Per network operation, overrides defaults.timeout.
    #[arg(long, value_name = "DUR")]
    pub timeout: Option<String>,
    /// A JSON report of an earlier run: failures already there do not block.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// The previous run's JSON report (for notifications on change).
    #[arg(long, value_name = "REPORT.json")]
    pub previous: Option<PathBuf>,
    /// Show secret values in the output (never the GitHub token).
    #[arg(long)]
    pub no_redact: bool,
    /// Let `load` bursts exceed 100,000 requests or 10 minutes.
    #[arg(long)]
    pub allow_large_load: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SecretsArgs {
    /// The directory or repository to scan.
    pub path: Option<PathBuf>,
    /// gitleaks v8 config (default: the built-in rules).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Scan git history instead of the working tree.
    #[arg(long)]
    pub git: bool,
    /// git log options (a range such as origin/main..HEAD), as gitleaks.
    #[arg(long, allow_hyphen_values = true)]
    pub log_opts: Option<String>,
    /// Scan what is staged for commit (pre-commit).
    #[arg(long)]
    pub staged: bool,
    /// gitleaks JSON report of accepted findings.
    #[arg(long, short = 'b')]
    pub baseline: Option<PathBuf>,
    #[arg(long, short = 'i')]
    pub ignore_file: Option<PathBuf>,
    #[arg(long)]
    pub no_redact: bool,
    #[arg(long, default_value_t = 5)]
    pub max_decode_depth: u32,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum DnsCommand {
    /// Write every record the policy reads to a lock file.
    Snapshot {
        #[arg(short, long, default_value = "launch.yml")]
        policy: PathBuf,
        #[arg(long, short = 'o', default_value = "launch.lock.yml")]
        out: PathBuf,
        /// Set a policy variable (overrides the environment).
        #[arg(long, value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Compare live answers with the lock: exit 1 on drift, 0 on none, 3 when it could not judge.
    Diff {
        #[arg(short, long, default_value = "launch.yml")]
        policy: PathBuf,
        #[arg(long, default_value = "launch.lock.yml")]
        lock: PathBuf,
        /// Also report TTL changes.
        #[arg(long)]
        ttl: bool,
        #[arg(long, value_name = "NAME=VALUE")]
        set: Vec<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Args)]
pub struct LighthouseArgs {
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    #[arg(short, long)]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The domain to probe (apex, www, app, api, MX, SPF, DMARC, DKIM, HTTPS).
    #[arg(long)]
    pub domain: Option<String>,
    #[arg(long, short = 'o', default_value = "launch.yml")]
    pub out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// DNS server to ask (IP or IP:PORT), written to dns.resolvers; default: the system resolver.
    #[arg(long, value_name = "ADDR")]
    pub resolver: Vec<String>,
    /// HOST:PORT:ADDR[:PORT2] for the HTTPS probes, written to defaults.resolve.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Extra trusted roots for the HTTPS probes, written to defaults.ca_file.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    #[arg(long, default_value = "5s")]
    pub timeout: String,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}
