//! The server: `server/benches/load.rs` built with `--profile server`, its JSON turned into rows.
//! Besides the SQLite server it starts a throwaway PostgreSQL cluster of its own (the refresh rows on
//! PostgreSQL, and what a rate-limit check costs in each store).

use std::fs;

use serde_json::{Value, json};

use super::report::Row;
use super::{Mode, num, out_dir, thousands};
use crate::util::{Result, cmd, exec, tmp_dir};

pub fn run(mode: Mode) -> Result<(Vec<Row>, Value)> {
    let out = out_dir().join("server.json");
    let _ = fs::remove_file(&out);
    let dbs = tmp_dir("bench-db");
    let _ = fs::remove_dir_all(&dbs);
    fs::create_dir_all(&dbs).map_err(|e| format!("creating {}: {e}", dbs.display()))?;
    let (secs, scale, seed_secs, rounds, pg_sessions) = if mode.quick {
        ("2", "10000", "60", "1", "100000")
    } else {
        ("8", "10000,100000,1000000", "240", "3", "1000000")
    };
    exec(
        // Bounded (a first build of the server profile included).
        cmd("timeout")
            .args(["--kill-after=10", "3000", "cargo"])
            .args(["bench", "-p", "hallpass-server", "--bench", "load", "--profile", "server"])
            .env("HALLPASS_BENCH_SECS", secs)
            .env("HALLPASS_BENCH_SCALE", scale)
            .env("HALLPASS_BENCH_SEED_SECS", seed_secs)
            .env("HALLPASS_BENCH_ROUNDS", rounds)
            .env("HALLPASS_BENCH_PG_SESSIONS", pg_sessions)
            .env("HALLPASS_BENCH_DIR", &dbs)
            .env("HALLPASS_BENCH_OUT", &out)
            .stdout(std::process::Stdio::null()),
        "cargo bench -p hallpass-server --bench load --profile server",
    )?;
    let _ = fs::remove_dir_all(&dbs);
    let text = fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut v: Value = serde_json::from_str(&text).map_err(|e| format!("server.json: {e}"))?;
    let (rows, md) = rows(&v);
    v["markdown"] = json!(md);
    v["benchmarks_md"] = json!(md);
    Ok((rows, v))
}

fn lat(v: &Value) -> String {
    format!("p50 {:.1} ms · p99 {:.1} ms", num(v, &["p50_ms"]), num(v, &["p99_ms"]))
}

fn rows(v: &Value) -> (Vec<Row>, String) {
    const AREA: &str = "Server";
    let cores = num(v, &["cores"]);
    let conc = num(v, &["concurrency"]);
    let sign_all = num(v, &["rs256", "sign_all"]);
    let verify_all = num(v, &["rs256", "verify_raw_all"]);
    let refresh = &v["refresh"];
    let me = &v["me"];
    let mut rows = vec![
        Row::new(
            AREA,
            format!("`POST /v1/client/refresh`, {conc:.0} connections"),
            format!("{} req/s · {}{}", thousands(num(refresh, &["rps"])), lat(refresh), errs(refresh)),
        )
        .reference(format!(
            "RS256 sign ceiling {} /s on {cores:.0} cores → {:.0} % of it{}",
            thousands(sign_all),
            100.0 * num(refresh, &["rps"]) / sign_all.max(1.0),
            cpu_share(refresh, num(v, &["rs256", "sign_cpu_ms"]), cores)
        )),
        Row::new(
            AREA,
            format!("`GET /v1/client/me` (Bearer JWT verified with the JWKS key), {conc:.0} connections"),
            format!("{} req/s · {}{}", thousands(num(me, &["rps"])), lat(me), errs(me)),
        )
        .reference(format!(
            "RS256 verify ceiling {} /s (raw), {} /s (JWT decode + claims) → {:.0} % of raw; CPU {:.3} ms per request, {:.1} of {cores:.0} cores busy",
            thousands(verify_all),
            thousands(num(v, &["rs256", "verify_jwt_all"])),
            100.0 * num(me, &["rps"]) / verify_all.max(1.0),
            num(me, &["cpu_ms_per_request"]),
            num(me, &["cores_busy"])
        )),
        Row::new(
            AREA,
            "Raw RS256 (RSA-2048, aws-lc-rs), 1 thread",
            format!(
                "sign {} /s · verify {} /s",
                thousands(num(v, &["rs256", "sign_1"])),
                thousands(num(v, &["rs256", "verify_raw_1"]))
            ),
        )
        .detail(),
        Row::new(
            AREA,
            format!(
                "Sign-in latency (Argon2id m={} KiB, t={}, p={}), sequential",
                num(v, &["argon2", "memory_kib"]),
                num(v, &["argon2", "iterations"]),
                num(v, &["argon2", "parallelism"])
            ),
            format!("{}{}", lat(&v["sign_in"]), errs(&v["sign_in"])),
        ),
        Row::new(
            AREA,
            "Refresh while 2 sign-in streams run",
            format!(
                "{} req/s · {}{}",
                thousands(num(&v["refresh_with_sign_ins"], &["rps"])),
                lat(&v["refresh_with_sign_ins"]),
                errs(&v["refresh_with_sign_ins"])
            ),
        )
        .reference(format!(
            "alone: {}; sign-ins meanwhile: {:.0} ({})",
            lat(refresh),
            num(&v["sign_in_during_refresh"], &["requests"]),
            lat(&v["sign_in_during_refresh"])
        )),
        Row::new(
            AREA,
            "Sign-up's common-password check (binary search over the list compiled in)",
            format!("{:.0} ns per check", num(v, &["common_passwords", "check_ns"])),
        )
        .reference(format!(
            "{:.0} passwords; a sign-up's Argon2id hash: p50 {:.1} ms",
            num(v, &["common_passwords", "entries"]),
            num(&v["sign_in"], &["p50_ms"])
        ))
        .detail(),
        {
            let f = &v["sign_in_flood"];
            Row::new(
                AREA,
                "Sign-in flood: peak memory and refresh p99 while Argon2 is saturated",
                format!(
                    "refresh p99 {:.1} ms · peak RSS {:.0} MiB (phase start {:.0} MiB) · sign-ins answered {:.0}, refused busy (503) {:.0}{}",
                    num(&f["refresh"], &["p99_ms"]),
                    num(f, &["peak_rss_kib"]) / 1024.0,
                    num(f, &["rss_start_kib"]) / 1024.0,
                    num(f, &["answered_422"]),
                    num(f, &["busy_503"]),
                    if num(f, &["other"]) > 0.0 { format!(" · {:.0} other", num(f, &["other"])) } else { String::new() }
                ),
            )
            .reference(format!(
                "{:.0} flooding connections; refresh alone p99 {:.1} ms → {:.2}×; Argon2 memory bound {:.0} slots × {:.0} MiB = {:.0} MiB",
                num(f, &["streams"]),
                num(refresh, &["p99_ms"]),
                num(&f["refresh"], &["p99_ms"]) / num(refresh, &["p99_ms"]).max(1e-9),
                num(f, &["hash_slots"]),
                num(v, &["argon2", "memory_kib"]) / 1024.0,
                num(f, &["hash_memory_bound_kib"]) / 1024.0
            ))
        },
    ];
    let w = &v["webhooks"];
    for (key, what) in [("sign_up_production", "production"), ("sign_up_cheap", "cheap")] {
        let x = &w[key];
        let (without, with, outbox) =
            (&x["without"], &x["with_3_endpoints"], &x["with_3_endpoints_outbox_only"]);
        rows.push(
            Row::new(
                "Webhooks",
                format!(
                    "Sign-up with 3 subscribed endpoints ({what} Argon2id m={} KiB, t={}), {} streams",
                    num(x, &["argon2", "memory_kib"]),
                    num(x, &["argon2", "iterations"]),
                    num(x, &["streams"])
                ),
                format!("{}{}", lat(with), errs(with)),
            )
            .reference(format!(
                "without endpoints (alternating rounds, same run): {} → p50 {:.2}×, p99 {:.2}×, sign-ups/s {:.2}×; \
                 the outbox alone (delivery left to another process): {} → p50 {:.2}×, p99 {:.2}×; {} of {} deliveries arrived",
                lat(without),
                num(with, &["p50_ms"]) / num(without, &["p50_ms"]).max(1e-9),
                num(with, &["p99_ms"]) / num(without, &["p99_ms"]).max(1e-9),
                num(with, &["rps"]) / num(without, &["rps"]).max(1e-9),
                lat(outbox),
                num(outbox, &["p50_ms"]) / num(without, &["p50_ms"]).max(1e-9),
                num(outbox, &["p99_ms"]) / num(without, &["p99_ms"]).max(1e-9),
                num(x, &["deliveries_received"]),
                num(x, &["deliveries_expected"])
            )),
        );
    }
    let (one, eight) = (&w["deliveries_1_endpoint"], &w["deliveries_8_endpoints"]);
    let incomplete = |x: &Value| if x["complete"] == true { "" } else { " (incomplete)" };
    rows.push(
        Row::new(
            "Webhooks",
            "Deliveries per second from a backlog to a loopback receiver (signed, recorded, in order)",
            format!(
                "{} /s to one endpoint{} · {} /s to eight{}",
                thousands(num(one, &["per_sec"])),
                incomplete(one),
                thousands(num(eight, &["per_sec"])),
                incomplete(eight)
            ),
        )
        .reference(format!(
            "{:.0} events × 1 endpoint in {:.1} s; {:.0} events × 8 endpoints in {:.1} s; SQLite",
            num(one, &["events"]),
            num(one, &["secs"]),
            num(eight, &["events"]),
            num(eight, &["secs"])
        )),
    );
    rows.extend(write_path_rows(v));
    rows.extend(no_enumeration_rows(v));
    let mut md = format!(
        "\n### Scale: refresh with N stored users (one session each)\n\n{conc:.0} connections, {:.0} s per point.\n\n\
         | users | seeded in | DB size | refresh req/s | p50 | p99 | errors |\n|---:|---:|---:|---:|---:|---:|---:|\n",
        num(v, &["secs"])
    );
    let mut first_rps = None;
    for s in v["scale"].as_array().into_iter().flatten() {
        let r = &s["refresh"];
        let rps = num(r, &["rps"]);
        let base = *first_rps.get_or_insert(rps);
        let users = num(s, &["users"]);
        let seeded = num(s, &["seeded"]);
        let mb = num(s, &["db_bytes"]) / 1024.0 / 1024.0;
        md.push_str(&format!(
            "| {} | {:.1} s | {mb:.0} MiB | {} | {:.1} ms | {:.1} ms | {:.0} |\n",
            thousands(seeded),
            num(s, &["seed_secs"]),
            thousands(rps),
            num(r, &["p50_ms"]),
            num(r, &["p99_ms"]),
            num(r, &["errors"])
        ));
        let partial = if seeded < users {
            format!(" (only {} seeded in time)", thousands(seeded))
        } else {
            String::new()
        };
        rows.push(
            Row::new(
                "Scale",
                format!("Refresh with {} users/sessions{partial}", thousands(users)),
                format!("{} req/s · {} · DB {mb:.0} MiB", thousands(rps), lat(r)),
            )
            .reference(format!(
                "{:.2}× the smallest DB's rate; seeded in {:.1} s",
                rps / base.max(1.0),
                num(s, &["seed_secs"])
            )),
        );
    }
    (rows, md)
}

/// What a refresh phase's CPU says beside its throughput: CPU per refresh (load generator included:
/// it shares the cores) against CPU per signature when every core signs. Their ratio is the share of
/// the sign ceiling the phase reaches once its cores are saturated; below the core count, the phase
/// was waiting on something other than the CPU (empty when the phase predates the measurement).
fn cpu_share(phase: &Value, sign_cpu_ms: f64, cores: f64) -> String {
    let per_request = num(phase, &["cpu_ms_per_request"]);
    if per_request <= 0.0 || sign_cpu_ms <= 0.0 {
        return String::new();
    }
    format!(
        "; CPU {:.3} ms per refresh vs {:.3} ms per signature → {:.0} % of the ceiling with the cores saturated; {:.1} of {cores:.0} cores busy",
        per_request,
        sign_cpu_ms,
        100.0 * sign_cpu_ms / per_request,
        num(phase, &["cores_busy"])
    )
}

/// The refresh write path against the sign ceiling (SQLite, side by side; PostgreSQL with one and two
/// replicas, small and large) and the rate-limit check in each store.
fn write_path_rows(v: &Value) -> Vec<Row> {
    const AREA: &str = "Server";
    let mut rows = Vec::new();
    let pct = |rps: f64, ceiling: f64| 100.0 * rps / ceiling.max(1.0);
    let side = &v["side_by_side"];
    if side.is_object() {
        let (g, one) = (&side["grouped"], &side["single"]);
        let ratio = num(g, &["ratio"]);
        rows.push(
            Row::new(
                AREA,
                "Refresh write path on SQLite, as a share of the RS256 sign ceiling (side by side)",
                format!(
                    "group commit: {} req/s · {} → {:.0} % of {} /s",
                    thousands(num(&g["refresh"], &["rps"])),
                    lat(&g["refresh"]),
                    100.0 * ratio,
                    thousands(num(g, &["sign_all"]))
                ),
            )
            .reference(format!(
                "one transaction per rotation (`--refresh-batch-max 1`): {} req/s · {} → {:.0} % of {} /s; median of {} alternating rounds. Group commit{}",
                thousands(num(&one["refresh"], &["rps"])),
                lat(&one["refresh"]),
                100.0 * num(one, &["ratio"]),
                thousands(num(one, &["sign_all"])),
                side["rounds"].as_array().map_or(0, Vec::len),
                cpu_share(&g["refresh"], num(g, &["sign_cpu_ms"]), num(v, &["cores"]))
            ))
            .budget("≥ 70 % of the sign ceiling", ratio >= 0.70),
        );
    }
    let pg = &v["postgres"];
    for (size, label) in [("small", "1 000"), ("large", "")] {
        let phases = &pg[size]["phases"];
        if !phases.is_object() {
            continue;
        }
        let sessions = num(&pg[size], &["sessions"]);
        let label = if label.is_empty() { thousands(sessions) } else { label.to_owned() };
        for (replicas, name) in [(1, "one"), (2, "two")] {
            let p = &phases[name];
            let rps = num(&p["refresh"], &["rps"]);
            let seeded = if size == "large" {
                format!(
                    "; seeded with generate_series in {:.0} s, database {:.0} MiB",
                    num(&pg[size], &["seed_secs"]),
                    num(&pg[size], &["db_bytes"]) / 1024.0 / 1024.0
                )
            } else {
                String::new()
            };
            rows.push(
                Row::new(
                    AREA,
                    format!("Refresh on PostgreSQL, {replicas} replica(s), {label} sessions"),
                    format!("{} req/s · {}{}", thousands(rps), lat(&p["refresh"]), errs(&p["refresh"])),
                )
                .reference(format!(
                    "{:.0} % of the RS256 sign ceiling {} /s measured just before{seeded}",
                    pct(rps, num(p, &["sign_all"])),
                    thousands(num(p, &["sign_all"]))
                )),
            );
        }
    }
    if let Some(e) = pg["error"].as_str() {
        rows.push(Row::new(AREA, "Refresh on PostgreSQL", format!("not measured: {e}")));
    }
    let limits = &v["rate_limits"];
    if limits.is_object() {
        let cost = |store: &str| {
            let s = &limits[store];
            if let Some(e) = s["error"].as_str() {
                return format!("{store}: {e}");
            }
            format!(
                "{store} {:.1} µs ({} checks/s with 16 callers)",
                num(s, &["sequential_us"]),
                thousands(num(s, &["calls_per_sec_16"]))
            )
        };
        rows.push(
            Row::new(AREA, "A rate-limit check (one per Frontend API request)", cost("memory"))
                .reference(format!("in the database: {} · {}", cost("sqlite"), cost("postgres"))),
        );
    }
    rows
}

/// Addresses without an account against addresses with one, in the email-code sign-in and the password
/// reset: the same answers, and — what these rows show — the same time, as ratios (unknown / known).
fn no_enumeration_rows(v: &Value) -> Vec<Row> {
    let ne = &v["no_enumeration"];
    let mut rows = Vec::new();
    if !ne.is_object() {
        return rows;
    }
    for (key, what) in [("email_code", "email-code sign-in"), ("reset_password_email_code", "password reset")]
    {
        let (create, prepare) = (&ne[key]["create"], &ne[key]["prepare"]);
        let within = |x: &Value| (0.8..=1.25).contains(&num(x, &["p50_ratio"]));
        rows.push(
            Row::new(
                "Server",
                format!("No enumeration, {what}: an unknown address against a known one (unknown / known)"),
                format!(
                    "sending the code: p50 {:.2}×, p99 {:.2}× · starting the sign-in: p50 {:.2}×, p99 {:.2}×",
                    num(prepare, &["p50_ratio"]),
                    num(prepare, &["p99_ratio"]),
                    num(create, &["p50_ratio"]),
                    num(create, &["p99_ratio"])
                ),
            )
            .reference(format!(
                "known: {} ({:.0} sends), start {}; unknown: {} ({:.0} sends), start {}; 4 connections alternating{}{}",
                lat(&prepare["known"]),
                num(&prepare["known"], &["requests"]),
                lat(&create["known"]),
                lat(&prepare["unknown"]),
                num(&prepare["unknown"], &["requests"]),
                lat(&create["unknown"]),
                errs(&prepare["known"]),
                errs(&prepare["unknown"])
            ))
            .budget("p50 within 0.8–1.25×", within(prepare) && within(create)),
        );
    }
    rows
}

/// ` · N errors`, or nothing when there were none.
fn errs(x: &Value) -> String {
    let e = num(x, &["errors"]);
    if e > 0.0 { format!(" · {e:.0} errors") } else { String::new() }
}
