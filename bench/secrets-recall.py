#!/usr/bin/env python3
"""Recall of the built-in rules (checks/secrets.toml) against gitleaks' default rules on
provider token formats, and false alarms on documented placeholders.

    bench/secrets-recall.py [launchgate-binary] [gitleaks-binary]

Tokens are generated at run time (random, in each provider's public format), so this
repository never contains one.
"""
import base64, json, os, random, string, subprocess, sys, tempfile

lg = sys.argv[1] if len(sys.argv) > 1 else "target/release/launchgate"
gl = sys.argv[2] if len(sys.argv) > 2 else "gitleaks"
r = random.Random(7)
A = string.ascii_letters + string.digits
H = "0123456789abcdef"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
D = "0123456789"


def s(n, al=A):
    return "".join(r.choice(al) for _ in range(n))


def pem(kind, body):
    # The markers are assembled so this file is not itself a private-key finding.
    dash = "-" * 5
    return f"{dash}BEGIN {kind}{dash}\n{body}\n{dash}END {kind}{dash}"


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


tokens = {
    "aws": f'aws_access_key_id = "AKIA{s(16, B32)}"\naws_secret_access_key = "{s(40, A + "/+")}"',
    "github_classic": f'GITHUB_TOKEN="ghp_{s(36)}"',
    "github_fine": f'token = "github_pat_{s(22)}_{s(59)}"',
    "github_app": f'GH="ghs_{s(36)}"',
    "gitlab": f'GITLAB_TOKEN="glpat-{s(20, A + "_-")}"',
    "stripe_secret": f'STRIPE_SECRET_KEY="sk_live_{s(99)}"',
    "stripe_restricted": f'stripe = "rk_live_{s(99)}"',
    "square": f'SQUARE_ACCESS_TOKEN="EAAA{s(60, A + "-_")}"',
    "sendgrid": f'SENDGRID_API_KEY="SG.{s(22, A + "-_")}.{s(43, A + "-_")}"',
    "mailgun": f'MAILGUN_API_KEY="key-{s(32, H)}"',
    "mailchimp": f'MAILCHIMP_API_KEY="{s(32, H)}-us12"',
    "postmark": 'POSTMARK_SERVER_TOKEN="' + "-".join([s(8, H), s(4, H), s(4, H), s(4, H), s(12, H)]) + '"',
    "twilio": f'TWILIO_API_KEY="SK{s(32, H)}"',
    "slack_bot": f'SLACK_BOT_TOKEN="xoxb-{s(12, D)}-{s(13, D)}-{s(24)}"',
    "slack_webhook": f'url = "https://hooks.slack.com/services/T{s(10, B32)}/B{s(10, B32)}/{s(24)}"',
    "openai": f'OPENAI_API_KEY="sk-proj-{s(74, A + "_-")}T3BlbkFJ{s(74, A + "_-")}"',
    "anthropic": f'ANTHROPIC_API_KEY="sk-ant-api03-{s(93, A + "_-")}AA"',
    "huggingface": f'HF_TOKEN="hf_{s(34, string.ascii_letters)}"',
    "npm": f"//registry.npmjs.org/:_authToken=npm_{s(36)}",
    "pypi": f"password = pypi-AgEIcHlwaS5vcmc{s(70, A + '_-')}",
    "digitalocean": f'DO_TOKEN="dop_v1_{s(64, H)}"',
    "vault": f'VAULT_TOKEN="hvs.{s(90, A + "_-")}"',
    "doppler": f'DOPPLER_TOKEN="dp.pt.{s(43)}"',
    "databricks": f'DATABRICKS_TOKEN="dapi{s(32, H)}"',
    "grafana": f'GRAFANA_TOKEN="glsa_{s(32)}_{s(8, H)}"',
    "newrelic": f'NEW_RELIC_API_KEY="NRAK-{s(27, string.ascii_uppercase + D)}"',
    "linear": f'LINEAR_API_KEY="lin_api_{s(40)}"',
    "postman": f'POSTMAN_API_KEY="PMAK-{s(24, H)}-{s(34, H)}"',
    "airtable": f'AIRTABLE_TOKEN="pat{s(14)}.{s(64, H)}"',
    "shopify": f'SHOPIFY_TOKEN="shpat_{s(32, H)}"',
    "age": "AGE-SECRET-KEY-1" + s(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"),
    "private_key": pem("RSA PRIVATE KEY", "\n".join(s(64, A + "+/") for _ in range(10))),
    "gcp_service_account": json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": s(40, H),
        "private_key": pem("PRIVATE KEY", s(64, A + "+/") + "\n" + s(64, A + "+/")) + "\n",
        "client_email": "deploy@acme-prod.iam.gserviceaccount.com"}),
    "azure_storage": f'AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={s(86, A + "+/")}==;EndpointSuffix=core.windows.net"',
    "jwt_service_role": 'SUPABASE_SERVICE_ROLE_KEY="' + b64u(b'{"alg":"HS256","typ":"JWT"}') + "." + b64u(json.dumps(
        {"iss": "supabase", "ref": s(20, string.ascii_lowercase), "role": "service_role", "iat": 1700000000, "exp": 2000000000}).encode()) + "." + s(43, A + "_-") + '"',
    "database_url": f'DATABASE_URL="postgres://app:{s(20)}@db.acme.internal:5432/prod"',
    "generic_assignment": f'api_secret = "{s(32)}"',
}
decoys = {
    "aws_example": 'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
    "xxxx": 'STRIPE_SECRET_KEY="sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"',
    "actions_secrets": "token: ${{ secrets.GITHUB_TOKEN }}\napi_key: ${{ secrets.OPENAI_API_KEY }}",
    "process_env": "const apiKey = process.env.STRIPE_SECRET_KEY;\nconst secret = process.env.API_SECRET;",
    "placeholder": 'SENDGRID_API_KEY="your-sendgrid-api-key-here"\npassword = "changeme"',
    "db_url_without_password": 'DATABASE_URL="postgres://localhost:5432/dev"',
}

tmp = tempfile.mkdtemp()
for name, files in (("tokens", tokens), ("decoys", decoys)):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    for k, v in files.items():
        open(os.path.join(d, k + ".env"), "w").write(v + "\n")
    subprocess.run([gl, "dir", d, "--no-banner", "-l", "error", "-f", "json", "-r", f"{d}.gl.json", "--max-decode-depth", "0"], capture_output=True)
    subprocess.run([lg, "secrets", d, "--max-decode-depth", "0", "--format", "json", "--out", f"{d}.lg.json"], capture_output=True)
    hit = lambda p: {os.path.basename(x["File"])[:-4] for x in json.load(open(p))}
    g, l = hit(f"{d}.gl.json"), hit(f"{d}.lg.json")
    print(f"{name}: {len(files)} files; gitleaks default rules flag {len(g)}, launchgate built-in rules flag {len(l)}")
    print(f"  only gitleaks: {sorted(g - l)}\n  only launchgate: {sorted(l - g)}\n  neither: {sorted(set(files) - g - l)}")
