//! `extends:` merging: the user's file wins key by key over the preset.

use super::model::*;

fn opt<T>(base: Option<T>, over: Option<T>) -> Option<T> {
    over.or(base)
}

fn list<T>(base: Vec<T>, over: Vec<T>) -> Vec<T> {
    if over.is_empty() {
        base
    } else {
        over
    }
}

fn nested<T>(base: Option<T>, over: Option<T>, f: impl FnOnce(T, T) -> T) -> Option<T> {
    match (base, over) {
        (Some(b), Some(o)) => Some(f(b, o)),
        (b, o) => o.or(b),
    }
}

pub fn merge(base: Policy, over: Policy) -> Policy {
    let mut resolve = base.defaults.resolve;
    resolve.extend(over.defaults.resolve);
    let defaults = Defaults {
        timeout: opt(base.defaults.timeout, over.defaults.timeout),
        retries: opt(base.defaults.retries, over.defaults.retries),
        user_agent: opt(base.defaults.user_agent, over.defaults.user_agent),
        ca_file: opt(base.defaults.ca_file, over.defaults.ca_file),
        resolve,
        max_body: opt(base.defaults.max_body, over.defaults.max_body),
    };
    let mut severity = base.severity;
    severity.extend(over.severity);
    let mut vars = base.vars;
    vars.extend(over.vars);
    let mut secret_vars = base.secret_vars;
    secret_vars.extend(over.secret_vars);
    let mut waivers = base.waivers;
    waivers.extend(over.waivers);
    Policy {
        version: over.version,
        name: opt(base.name, over.name),
        extends: over.extends,
        defaults,
        vars,
        pages: list(base.pages, over.pages),
        redirects: list(base.redirects, over.redirects),
        tls: nested(base.tls, over.tls, |b, o| TlsPolicy {
            min_days: opt(b.min_days, o.min_days),
            warn_days: opt(b.warn_days, o.warn_days),
            min_version: opt(b.min_version, o.min_version),
            hosts: list(b.hosts, o.hosts),
        }),
        headers: nested(base.headers, over.headers, |b, o| HeadersPolicy {
            hsts: nested(b.hsts, o.hsts, |b, o| HstsPolicy {
                min_max_age: opt(b.min_max_age, o.min_max_age),
                include_subdomains: opt(b.include_subdomains, o.include_subdomains),
                preload: opt(b.preload, o.preload),
                enabled: opt(b.enabled, o.enabled),
            }),
            security: opt(b.security, o.security),
        }),
        forms: list(base.forms, over.forms),
        exposure: list(base.exposure, over.exposure),
        edge: list(base.edge, over.edge),
        secrets: opt(base.secrets, over.secrets),
        dns: opt(base.dns, over.dns),
        email: list(base.email, over.email),
        env: nested(base.env, over.env, |b, o| EnvPolicy {
            required: list(b.required, o.required),
            forbid_tracked: opt(b.forbid_tracked, o.forbid_tracked),
        }),
        rollback: opt(base.rollback, over.rollback),
        migrations: opt(base.migrations, over.migrations),
        load: list(base.load, over.load),
        lighthouse: opt(base.lighthouse, over.lighthouse),
        severity,
        waivers,
        secret_vars,
        report: nested(base.report, over.report, |b, o| ReportPolicy {
            fail_on: opt(b.fail_on, o.fail_on),
            github: opt(b.github, o.github),
            notify: opt(b.notify, o.notify),
        }),
    }
}
