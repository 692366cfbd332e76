//! What the Actions environment tells us: repository, commit, API base, token, files.

use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Context {
    pub api_url: String,
    pub owner: Option<String>,
    pub repo: Option<String>,
    /// The PR head for pull_request events (GITHUB_SHA is the merge commit there).
    pub sha: Option<String>,
    pub pr_number: Option<u64>,
    /// Never printed or logged; redacted from every output.
    pub token: Option<String>,
    pub workspace: Option<PathBuf>,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
    pub run_url: Option<String>,
    pub runner_temp: Option<PathBuf>,
}

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

impl Context {
    pub fn from_env() -> Context {
        let mut c = Context {
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            token: var("INPUT_GITHUB-TOKEN")
                .or_else(|| var("INPUT_GITHUB_TOKEN"))
                .or_else(|| var("GITHUB_TOKEN")),
            workspace: var("GITHUB_WORKSPACE").map(PathBuf::from),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            runner_temp: var("RUNNER_TEMP").map(PathBuf::from),
            sha: var("GITHUB_SHA"),
            ..Default::default()
        };
        if let Some((o, r)) = var("GITHUB_REPOSITORY").and_then(|s| {
            s.split_once('/')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        }) {
            c.owner = Some(o);
            c.repo = Some(r);
        }
        if let (Some(server), Some(repo), Some(run)) = (
            var("GITHUB_SERVER_URL"),
            var("GITHUB_REPOSITORY"),
            var("GITHUB_RUN_ID"),
        ) {
            c.run_url = Some(format!(
                "{}/{repo}/actions/runs/{run}",
                server.trim_end_matches('/')
            ));
        }
        if let Some(event) = var("GITHUB_EVENT_PATH").and_then(|p| std::fs::read_to_string(p).ok())
        {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&event) {
                if let Some(pr) = v.get("pull_request") {
                    if let Some(sha) = pr.pointer("/head/sha").and_then(|s| s.as_str()) {
                        c.sha = Some(sha.to_string());
                    }
                    c.pr_number = pr.get("number").and_then(|n| n.as_u64());
                }
            }
        }
        c
    }

    pub fn can_call_api(&self) -> Option<&'static str> {
        if self.token.is_none() {
            Some("no GitHub token (GITHUB_TOKEN or the action's github-token input)")
        } else if self.owner.is_none() {
            Some("GITHUB_REPOSITORY is not set")
        } else if self.sha.is_none() {
            Some("no commit to report on (GITHUB_SHA or the pull request head)")
        } else {
            None
        }
    }

    /// A path as GitHub wants it in annotations: relative to the repository root.
    pub fn repo_relative(&self, path: &str) -> String {
        let p = path.replace('\\', "/");
        let mut bases = Vec::new();
        if let Some(w) = &self.workspace {
            bases.push(w.display().to_string());
        }
        if let Ok(c) = std::env::current_dir() {
            bases.push(c.display().to_string());
        }
        for b in bases {
            let b = b.trim_end_matches('/').to_string() + "/";
            if let Some(s) = p.strip_prefix(&b) {
                return s.to_string();
            }
        }
        p.trim_start_matches("./").to_string()
    }
}
