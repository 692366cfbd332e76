//! True- and false-positive tests for every built-in rule. Test tokens are
//! assembled at run time so this file holds no literal credential that
//! scanners or push protection would flag.

use super::{scan_bytes, Config, ScanOptions};

/// Deterministic pseudo-random text over `alphabet`.
fn fill(alphabet: &str, n: usize, seed: u64) -> String {
    let a: Vec<char> = alphabet.chars().collect();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            a[(x % a.len() as u64) as usize]
        })
        .collect()
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX: &str = "0123456789abcdef";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

fn j(parts: &[&str]) -> String {
    parts.concat()
}

fn rules_hit(text: &str) -> Vec<String> {
    static CFG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    let cfg = CFG.get_or_init(Config::builtin);
    let opts = ScanOptions {
        max_decode_depth: 0,
        ..ScanOptions::default()
    };
    scan_bytes(cfg, "src/app.js", text.as_bytes(), &opts)
        .into_iter()
        .map(|f| f.rule_id)
        .collect()
}

#[track_caller]
fn hits(rule: &str, text: &str) {
    let got = rules_hit(text);
    assert!(
        got.iter().any(|r| r == rule),
        "{rule} should fire on {text:?}, got {got:?}"
    );
}

#[track_caller]
fn quiet(rule: &str, text: &str) {
    let got = rules_hit(text);
    assert!(
        !got.iter().any(|r| r == rule),
        "{rule} should not fire on {text:?}"
    );
}

#[test]
fn aws() {
    let id = j(&["AK", "IA", &fill(UPPER, 16, 1)]);
    hits("aws-access-key-id", &format!("aws_access_key_id = {id}\n"));
    quiet(
        "aws-access-key-id",
        &j(&["key = AK", "IAIOSFODNN7", "EXAMPLE\n"]),
    );
    quiet("aws-access-key-id", &format!("x{id}x\n"));
    let sk = fill(B64, 40, 2);
    hits(
        "aws-secret-access-key",
        &format!("aws_secret_access_key = \"{sk}\"\n"),
    );
    quiet(
        "aws-secret-access-key",
        &j(&[
            "aws_secret_access_key = wJalr",
            "XUtnFEMI/K7MDENG/bPxRfiCY",
            "EXAMPLE",
            "KEY\n",
        ]),
    );
}

#[test]
fn gcp_and_azure() {
    let kid = fill(HEX, 40, 3);
    hits(
        "gcp-service-account-key",
        &format!("{{\"type\": \"service_account\", \"private_key_id\": \"{kid}\"}}\n"),
    );
    quiet("gcp-service-account-key", "\"private_key_id\": \"abc\"\n");
    hits(
        "gcp-api-key",
        &format!("key={}\n", j(&["AI", "za", &fill(URLSAFE, 35, 4)])),
    );
    quiet(
        "gcp-api-key",
        &format!("key={}\n", j(&["AI", "za", &fill(URLSAFE, 20, 4)])),
    );
    let ak = j(&[&fill(B64, 86, 5), "=="]);
    hits(
        "azure-storage-account-key",
        &format!("DefaultEndpointsProtocol=https;AccountName=x;AccountKey={ak};\n"),
    );
    quiet("azure-storage-account-key", "AccountKey=${STORAGE_KEY};\n");
}

#[test]
fn github() {
    hits(
        "github-pat",
        &format!("token: {}\n", j(&["gh", "p_", &fill(ALNUM, 36, 6)])),
    );
    quiet(
        "github-pat",
        &format!("token: {}\n", j(&["gh", "p_", &fill(ALNUM, 20, 6)])),
    );
    quiet(
        "github-pat",
        &j(&["token: gh", "p_", &"x".repeat(36), "\n"]),
    );
    let fg = j(&[
        "github",
        "_pat_",
        &fill(ALNUM, 22, 7),
        "_",
        &fill(ALNUM, 59, 8),
    ]);
    hits("github-fine-grained-pat", &format!("GH={fg}\n"));
    quiet(
        "github-fine-grained-pat",
        &j(&["GH=github", "_pat_", "short\n"]),
    );
    hits(
        "github-app-token",
        &format!("t = '{}'\n", j(&["gh", "s_", &fill(ALNUM, 36, 9)])),
    );
    quiet(
        "github-app-token",
        &format!("t = '{}'\n", j(&["gh", "x_", &fill(ALNUM, 36, 9)])),
    );
    hits(
        "github-oauth-token",
        &format!("t = '{}'\n", j(&["gh", "o_", &fill(ALNUM, 36, 10)])),
    );
    quiet("github-oauth-token", "t = 'gho_'\n");
}

#[test]
fn gitlab_npm_pypi() {
    hits(
        "gitlab-token",
        &format!("CI_TOKEN={}\n", j(&["gl", "pat-", &fill(URLSAFE, 20, 11)])),
    );
    quiet(
        "gitlab-token",
        &format!("CI_TOKEN={}\n", j(&["gl", "pat-", &fill(URLSAFE, 8, 11)])),
    );
    hits(
        "npm-token",
        &format!(
            "//registry.npmjs.org/:_authToken={}\n",
            j(&["np", "m_", &fill(ALNUM, 36, 12)])
        ),
    );
    quiet(
        "npm-token",
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
    );
    let py = j(&["py", "pi-", "AgEIcHlwaS5vcmc", &fill(URLSAFE, 60, 13)]);
    hits("pypi-token", &format!("password = {py}\n"));
    quiet("pypi-token", "password = pypi-placeholder\n");
}

#[test]
fn payments() {
    hits(
        "stripe-secret-key",
        &format!(
            "STRIPE_SECRET_KEY={}\n",
            j(&["sk", "_live_", &fill(ALNUM, 24, 14)])
        ),
    );
    quiet(
        "stripe-secret-key",
        &format!(
            "STRIPE_PUBLISHABLE_KEY={}\n",
            j(&["pk", "_live_", &fill(ALNUM, 24, 14)])
        ),
    );
    quiet(
        "stripe-secret-key",
        "STRIPE_SECRET_KEY=process.env.STRIPE_SECRET_KEY\n",
    );
    hits(
        "stripe-restricted-key",
        &format!("k={}\n", j(&["rk", "_test_", &fill(ALNUM, 30, 15)])),
    );
    quiet(
        "stripe-restricted-key",
        &format!("k={}\n", j(&["rk", "_dev_", &fill(ALNUM, 30, 15)])),
    );
    hits(
        "square-token",
        &format!("SQUARE={}\n", j(&["EA", "AA", &fill(URLSAFE, 60, 16)])),
    );
    hits(
        "square-token",
        &format!("SQUARE={}\n", j(&["sq0", "csp-", &fill(URLSAFE, 43, 17)])),
    );
    quiet("square-token", "SQUARE=EAAAsomething\n");
    hits(
        "shopify-token",
        &format!("X={}\n", j(&["sh", "pat_", &fill(HEX, 32, 18)])),
    );
    quiet(
        "shopify-token",
        &format!("X={}\n", j(&["sh", "pat_", &fill(HEX, 31, 18)])),
    );
}

#[test]
fn email_and_messaging() {
    let sg = j(&[
        "S",
        "G.",
        &fill(URLSAFE, 22, 19),
        ".",
        &fill(URLSAFE, 43, 20),
    ]);
    hits("sendgrid-api-key", &format!("SENDGRID_API_KEY='{sg}'\n"));
    quiet("sendgrid-api-key", "SENDGRID_API_KEY='SG.xxxxxxxxxx'\n");
    hits(
        "mailgun-api-key",
        &format!("MAILGUN={}\n", j(&["ke", "y-", &fill(HEX, 32, 21)])),
    );
    quiet(
        "mailgun-api-key",
        &format!("MAILGUN={}\n", j(&["ke", "y-", &fill(HEX, 12, 21)])),
    );
    hits(
        "mailchimp-api-key",
        &format!("MC={}\n", j(&[&fill(HEX, 32, 22), "-u", "s21"])),
    );
    quiet(
        "mailchimp-api-key",
        &format!("MC={}\n", j(&[&fill(HEX, 32, 22), "-eu1"])),
    );
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        fill(HEX, 8, 23),
        fill(HEX, 4, 24),
        fill(HEX, 4, 25),
        fill(HEX, 4, 26),
        fill(HEX, 12, 27)
    );
    hits(
        "postmark-server-token",
        &format!("POSTMARK_SERVER_TOKEN = \"{uuid}\"\n"),
    );
    quiet(
        "postmark-server-token",
        &format!("REQUEST_ID = \"{uuid}\"\n"),
    );
    hits(
        "twilio-api-key",
        &format!("TWILIO_API_KEY={}\n", j(&["S", "K", &fill(HEX, 32, 28)])),
    );
    quiet(
        "twilio-api-key",
        &format!("TWILIO_API_KEY={}\n", j(&["S", "K", &fill(HEX, 31, 28)])),
    );
    hits(
        "twilio-auth-token",
        &format!("TWILIO_AUTH_TOKEN={}\n", fill(HEX, 32, 29)),
    );
    quiet(
        "twilio-auth-token",
        "TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN}\n",
    );
    let slack = j(&[
        "xo",
        "xb-",
        &fill("0123456789", 12, 30),
        "-",
        &fill(ALNUM, 24, 31),
    ]);
    hits("slack-token", &format!("SLACK_BOT_TOKEN={slack}\n"));
    quiet("slack-token", "SLACK_BOT_TOKEN=xoxb-\n");
    let hook = j(&[
        "https://hooks.",
        "slack.com/services/",
        &fill(ALNUM, 9, 32),
        "/",
        &fill(ALNUM, 9, 33),
        "/",
        &fill(ALNUM, 24, 34),
    ]);
    hits("slack-webhook-url", &format!("url: {hook}\n"));
    quiet(
        "slack-webhook-url",
        "url: https://hooks.slack.com/services/${{ secrets.SLACK_HOOK }}\n",
    );
}

#[test]
fn ai() {
    let oa = j(&[
        "sk",
        "-proj-",
        &fill(URLSAFE, 40, 35),
        "T3Blbk",
        "FJ",
        &fill(URLSAFE, 40, 36),
    ]);
    hits("openai-api-key", &format!("OPENAI_API_KEY={oa}\n"));
    quiet(
        "openai-api-key",
        &format!(
            "OPENAI_API_KEY={}\n",
            j(&["sk", "-proj-", &fill(URLSAFE, 40, 35)])
        ),
    );
    let an = j(&["sk", "-ant-", "api03-", &fill(URLSAFE, 95, 37)]);
    hits("anthropic-api-key", &format!("ANTHROPIC_API_KEY={an}\n"));
    quiet(
        "anthropic-api-key",
        "ANTHROPIC_API_KEY=sk-ant-api03-short\n",
    );
    hits(
        "huggingface-token",
        &format!(
            "HF_TOKEN={}\n",
            j(&[
                "h",
                "f_",
                &fill(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    34,
                    38
                )
            ])
        ),
    );
    quiet(
        "huggingface-token",
        &format!("HF_TOKEN={}\n", j(&["h", "f_", &"x".repeat(34)])),
    );
}

#[test]
fn platforms() {
    hits(
        "digitalocean-token",
        &format!("DO={}\n", j(&["do", "p_v1_", &fill(HEX, 64, 39)])),
    );
    quiet(
        "digitalocean-token",
        &format!("DO={}\n", j(&["do", "p_v1_", &fill(HEX, 20, 39)])),
    );
    hits(
        "databricks-token",
        &format!(
            "DATABRICKS_TOKEN={}\n",
            j(&["da", "pi", &fill(HEX, 32, 40)])
        ),
    );
    quiet(
        "databricks-token",
        &format!(
            "DATABRICKS_TOKEN={}\n",
            j(&["da", "pi", &fill(HEX, 16, 40)])
        ),
    );
    hits(
        "vault-token",
        &format!("VAULT_TOKEN={}\n", j(&["hv", "s.", &fill(URLSAFE, 95, 41)])),
    );
    quiet("vault-token", "VAULT_TOKEN=hvs.short\n");
    hits(
        "doppler-token",
        &format!(
            "DOPPLER_TOKEN={}\n",
            j(&["dp", ".st.", &fill(ALNUM, 40, 42)])
        ),
    );
    quiet("doppler-token", "DOPPLER_TOKEN=dp.st.dev\n");
    hits(
        "grafana-token",
        &format!(
            "G={}\n",
            j(&["gl", "sa_", &fill(ALNUM, 32, 43), "_", &fill(HEX, 8, 44)])
        ),
    );
    quiet("grafana-token", "G=glsa_short\n");
    hits(
        "newrelic-key",
        &format!(
            "NEW_RELIC_API_KEY={}\n",
            j(&["NR", "AK-", &fill(UPPER, 27, 45)])
        ),
    );
    quiet("newrelic-key", "NEW_RELIC_API_KEY=NRAK-SHORT\n");
    hits(
        "linear-api-key",
        &format!(
            "LINEAR_API_KEY={}\n",
            j(&["lin", "_api_", &fill(ALNUM, 40, 46)])
        ),
    );
    quiet(
        "linear-api-key",
        &format!(
            "LINEAR_API_KEY={}\n",
            j(&["lin", "_api_", &fill(ALNUM, 10, 46)])
        ),
    );
    hits(
        "postman-api-key",
        &format!(
            "P={}\n",
            j(&["PM", "AK-", &fill(HEX, 24, 47), "-", &fill(HEX, 34, 48)])
        ),
    );
    quiet("postman-api-key", "P=PMAK-1234\n");
    hits(
        "airtable-token",
        &format!(
            "AIRTABLE={}\n",
            j(&["pa", "t", &fill(ALNUM, 14, 49), ".", &fill(HEX, 64, 50)])
        ),
    );
    quiet(
        "airtable-token",
        &format!("AIRTABLE={}\n", j(&["pa", "t", &fill(ALNUM, 14, 49)])),
    );
}

#[test]
fn keys_jwts_urls() {
    let age = j(&[
        "AGE-SECRET",
        "-KEY-1",
        &fill("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58, 51),
    ]);
    hits("age-secret-key", &format!("{age}\n"));
    quiet(
        "age-secret-key",
        &j(&[
            "# public key: ag",
            "e1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
        ]),
    );
    let pem = format!(
        "{}\n{}\n{}\n",
        j(&["-----BEGIN RSA ", "PRIVATE KEY-----"]),
        fill(B64, 64, 52),
        j(&["-----END RSA ", "PRIVATE KEY-----"])
    );
    hits("private-key", &pem);
    quiet(
        "private-key",
        &j(&[
            "-----BEGIN ",
            "PUBLIC KEY-----\n",
            &fill(B64, 64, 52),
            "\n-----END PUBLIC KEY-----\n",
        ]),
    );
    // {"alg":"HS256","typ":"JWT"} . {"role":"service_role"} . signature
    let header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    let service = j(&["eyJyb2xlIjoic2Vy", "dmljZV9yb2xlIn0"]);
    let anon = "eyJyb2xlIjoiYW5vbiJ9";
    let sig = fill(URLSAFE, 43, 53);
    hits(
        "jwt-service-role",
        &format!("SUPABASE_KEY={header}.{service}.{sig}\n"),
    );
    quiet(
        "jwt-service-role",
        &format!("SUPABASE_ANON_KEY={header}.{anon}.{sig}\n"),
    );
    let pw = fill(ALNUM, 16, 54);
    hits(
        "database-url-password",
        &format!("DATABASE_URL=postgres://app:{pw}@db.internal:5432/app\n"),
    );
    quiet(
        "database-url-password",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app\n",
    );
    quiet(
        "database-url-password",
        "DATABASE_URL=postgres://app:password@localhost/app\n",
    );
}

#[test]
fn generic_assignment() {
    let v = fill(ALNUM, 32, 55);
    hits(
        "generic-secret-assignment",
        &format!("const apiKey = \"{v}\";\n"),
    );
    quiet(
        "generic-secret-assignment",
        "const apiKey = \"aaaaaaaaaaaaaaaaaaaa\";\n",
    );
    quiet(
        "generic-secret-assignment",
        "const apiKey = \"${{ secrets.API_KEY }}\";\n",
    );
    quiet(
        "generic-secret-assignment",
        &format!("const title = \"{v}\";\n"),
    );
    // A specific rule's finding on the same line wins over the generic one.
    let gh = j(&["gh", "p_", &fill(ALNUM, 36, 56)]);
    let got = rules_hit(&format!("token = \"{gh}\"\n"));
    assert_eq!(got, vec!["github-pat".to_string()]);
}

#[test]
fn placeholders_are_quiet() {
    for text in [
        "api_key = \"xxxxxxxxxxxxxxxxxxxxxxxx\"\n",
        "secret: ${{ secrets.DEPLOY_KEY }}\n",
        "token = process.env.API_TOKEN\n",
        "password = \"<your-password-here>\"\n",
    ] {
        assert!(
            rules_hit(text).is_empty(),
            "{text:?}: {:?}",
            rules_hit(text)
        );
    }
}
