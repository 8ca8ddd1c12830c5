//! The side-by-side section: reads the JSON lines a run appended (ours and
//! the peers, alternating over rounds), computes the median of the per-round
//! ratios ours / peer, and draws the SVG charts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::scenarios::Report;

const ORDER: [&str; 4] = ["ours", "floor", "node-ws", "soketi"];
const COLOURS: [&str; 4] = ["#d62728", "#7f7f7f", "#2ca02c", "#1f77b4"];

fn colour(target: &str) -> &'static str {
    ORDER
        .iter()
        .position(|t| *t == target)
        .map_or("#9467bd", |i| COLOURS[i])
}

fn rank(target: &str) -> usize {
    ORDER
        .iter()
        .position(|t| *t == target)
        .unwrap_or(ORDER.len())
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

fn target(v: &Value) -> String {
    v["target"].as_str().unwrap_or("ours").to_owned()
}

/// `records` grouped by target, in the fixed order ours, floor, node-ws, soketi.
fn by_target<'a>(records: &[&'a Value]) -> Vec<(String, Vec<&'a Value>)> {
    let mut map: BTreeMap<(usize, String), Vec<&Value>> = BTreeMap::new();
    for r in records {
        let t = target(r);
        map.entry((rank(&t), t)).or_default().push(r);
    }
    map.into_iter().map(|((_, t), v)| (t, v)).collect()
}

/// Idle runs by server, then by size: a size only one server ran (ours at
/// 19,000 sockets) gets rows of its own instead of being folded into that
/// server's figures at the size the others ran.
fn idle_groups<'a>(idles: &[&'a Value]) -> Vec<(String, u64, Vec<&'a Value>)> {
    by_target(idles)
        .into_iter()
        .flat_map(|(t, rs)| {
            let mut sizes: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
            for r in rs {
                sizes
                    .entry(r["sockets"].as_u64().unwrap_or(0))
                    .or_default()
                    .push(r);
            }
            sizes.into_iter().map(move |(n, v)| (t.clone(), n, v))
        })
        .collect()
}

/// The size the most servers ran (the larger on a tie).
fn most_shared_size(groups: &[(String, u64, Vec<&Value>)]) -> Option<u64> {
    let mut servers: BTreeMap<u64, usize> = BTreeMap::new();
    for (_, n, _) in groups {
        *servers.entry(*n).or_default() += 1;
    }
    servers
        .into_iter()
        .max_by_key(|&(n, count)| (count, n))
        .map(|(n, _)| n)
}

/// Median over rounds of ours / peer for one metric, pairing records by round.
fn ratio(ours: &[&Value], peer: &[&Value], metric: &dyn Fn(&Value) -> f64) -> Option<f64> {
    let ratios: Vec<f64> = ours
        .iter()
        .filter_map(|o| {
            let p = peer.iter().find(|p| p["round"] == o["round"])?;
            let (a, b) = (metric(o), metric(p));
            (a.is_finite() && b.is_finite() && b > 0.0).then_some(a / b)
        })
        .collect();
    median(ratios)
}

/// Records by round, and within a round in the servers' fixed order.
fn in_round_order<'a>(records: &[&'a Value]) -> Vec<&'a Value> {
    let mut rows = records.to_vec();
    rows.sort_by_key(|r| (r["round"].as_u64().unwrap_or(0), rank(&target(r))));
    rows
}

/// Markdown header cells, one column per socket count, and the rule below.
fn size_columns(sizes: &[u64], unit: &str) -> (String, String) {
    let names: Vec<String> = sizes.iter().map(|n| format!("{n} sockets{unit}")).collect();
    (names.join(" | "), vec!["---"; sizes.len()].join(" | "))
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}"))
}

pub fn compare(input: &Path, svg_dir: &Path) -> Result<Report> {
    let text =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let records: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let of = |scenario: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["scenario"] == scenario)
            .collect()
    };
    std::fs::create_dir_all(svg_dir)?;
    let svg_rel = svg_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut md = String::from("## Side by side with the peers\n\n");
    let mut summary = json!({});

    // Steady fan-out, alternating rounds, one section per load.
    let steady: Vec<&Value> = of("fanout")
        .into_iter()
        .filter(|r| r["ramp"].as_array().is_none_or(Vec::is_empty))
        .collect();
    let mut loads: Vec<(u64, u64)> = steady
        .iter()
        .map(|r| {
            (
                r["agents"].as_u64().unwrap_or(0),
                r["rate"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    loads.sort_unstable();
    loads.dedup();
    let mut ratios_by_load = json!({});
    for (agents, rate) in loads {
        let records: Vec<&Value> = steady
            .iter()
            .copied()
            .filter(|r| r["agents"].as_u64() == Some(agents) && r["rate"].as_u64() == Some(rate))
            .collect();
        let ratios = steady_section(&mut md, &records, agents, rate, svg_dir, &svg_rel)?;
        ratios_by_load[format!("{agents}x{rate}")] = ratios;
    }
    summary["fanout_ratios"] = ratios_by_load;

    // Capacity: the ramp's highest deliveries/s with p99 ≤ 50 ms.
    let ramps: Vec<&Value> = of("fanout")
        .into_iter()
        .filter(|r| r["ramp"].as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    if !ramps.is_empty() {
        let _ = writeln!(
            md,
            "### fanout capacity: highest deliveries/s with p99 ≤ 50 ms (rate ramp, ×1.25 a step, 4 s each)\n\n| server | deliveries/s | ours / server |\n| --- | --- | --- |"
        );
        let best = |t: &str| {
            ramps
                .iter()
                .filter(|r| target(r) == t)
                .map(|r| f(r, "max_deliveries_per_s_p99_under_50ms"))
                .fold(f64::NAN, f64::max)
        };
        let ours = best("ours");
        let mut capacity = json!({});
        for (t, _) in by_target(&ramps) {
            let b = best(&t);
            let _ = writeln!(md, "| {t} | {b:.0} | {:.2} |", ours / b);
            capacity[t.as_str()] = json!(b);
        }
        summary["capacity"] = capacity;
        md.push('\n');
    }

    // Burst.
    let bursts = of("burst");
    if !bursts.is_empty() {
        let sizes: Vec<u64> = bursts[0]["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["sockets"].as_u64())
            .collect();
        let median_at = |r: &Value, n: u64| {
            r["runs"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["sockets"].as_u64() == Some(n))
                .map_or(f64::NAN, |x| f(x, "median_ms"))
        };
        let (names, rule) = size_columns(&sizes, " ms");
        let _ = writeln!(
            md,
            "### burst: one message to every socket, time to the last delivery (median of 3 per round)\n\n| round | server | {names} |\n| --- | --- | {rule} |"
        );
        for r in in_round_order(&bursts) {
            let cells: Vec<String> = sizes
                .iter()
                .map(|n| format!("{:.1}", median_at(r, *n)))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                r["round"],
                target(r),
                cells.join(" | ")
            );
        }
        let groups = by_target(&bursts);
        if let Some((_, ours)) = groups.iter().find(|(t, _)| t == "ours") {
            let (names, rule) = size_columns(&sizes, "");
            let _ = writeln!(
                md,
                "\nMedian ratio ours / peer:\n\n| peer | {names} |\n| --- | {rule} |"
            );
            for (t, peer) in groups.iter().filter(|(t, _)| t != "ours") {
                let cells: Vec<String> = sizes
                    .iter()
                    .map(|n| fmt_ratio(ratio(ours, peer, &|v| median_at(v, *n))))
                    .collect();
                let _ = writeln!(md, "| {t} | {} |", cells.join(" | "));
            }
        }
        md.push('\n');
    }

    // Idle memory.
    let idles = of("idle");
    if !idles.is_empty() {
        let _ = writeln!(
            md,
            "### idle: memory per connection\n\n| server | sockets | RSS KiB per socket | idle CPU cores | connect all s |\n| --- | --- | --- | --- | --- |"
        );
        let groups = idle_groups(&idles);
        // The chart compares the servers at the size most of them ran.
        let shared = most_shared_size(&groups);
        let mut series = Vec::new();
        for (t, sockets, rs) in &groups {
            let per = median(rs.iter().map(|r| f(r, "rss_per_socket_kib")).collect());
            let cpu = median(rs.iter().map(|r| f(r, "idle_cpu_cores")).collect());
            let con = median(rs.iter().map(|r| f(r, "connect_all_s")).collect());
            let _ = writeln!(
                md,
                "| {t} | {sockets} | {:.1} | {:.3} | {:.2} |",
                per.unwrap_or(f64::NAN),
                cpu.unwrap_or(f64::NAN),
                con.unwrap_or(f64::NAN)
            );
            if Some(*sockets) != shared {
                continue;
            }
            let curve = rs[0]["rss_curve"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p["sockets"].as_f64()?, p["rss_kib"].as_f64()? / 1024.0)))
                .collect();
            series.push((
                format!("{t} ({:.1} KiB/socket)", per.unwrap_or(f64::NAN)),
                curve,
            ));
        }
        let max_x = series
            .iter()
            .flat_map(|(_, s): &(String, Vec<(f64, f64)>)| s.iter().map(|p| p.0))
            .fold(0.0, f64::max);
        let chart = line_chart(&Chart {
            title: "resident memory against open idle sockets".into(),
            x_label: "sockets".into(),
            y_label: "RSS MiB".into(),
            x_ticks: (0..=4)
                .map(|i| {
                    let x = max_x * f64::from(i) / 4.0;
                    (x, format!("{x:.0}"))
                })
                .collect(),
            y_log: false,
            series,
        });
        std::fs::write(svg_dir.join("idle-rss.svg"), chart)?;
        let _ = writeln!(md, "\n![RSS per connection]({svg_rel}/idle-rss.svg)\n");
    }

    Ok(Report {
        json: json!({ "scenario": "compare", "summary": summary }),
        markdown: md,
    })
}

/// The rounds of one steady fan-out load, the median ratios ours / peer,
/// and the latency-distribution chart. Returns the ratios.
fn steady_section(
    md: &mut String,
    steady: &[&Value],
    agents: u64,
    rate: u64,
    svg_dir: &Path,
    svg_rel: &str,
) -> Result<Value> {
    let groups = by_target(steady);
    let Some((_, ours)) = groups.iter().find(|(t, _)| t == "ours") else {
        return Ok(Value::Null);
    };
    let _ = writeln!(
        md,
        "### fanout: {agents} subscribers, {rate} messages/s, rounds alternating the servers\n\n| round | server | p50 ms | p99 ms | p99.9 ms | last subscriber p99 ms | CPU µs/delivery | deliveries/s | lost |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for r in in_round_order(steady) {
        let _ = writeln!(
            md,
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.0} | {} |",
            r["round"],
            target(r),
            f(&r["per_delivery"], "p50_ms"),
            f(&r["per_delivery"], "p99_ms"),
            f(&r["per_delivery"], "p999_ms"),
            f(&r["last_subscriber"], "p99_ms"),
            f(r, "cpu_us_per_delivery"),
            f(r, "deliveries_per_s"),
            r["lost"]
        );
    }
    let _ = writeln!(
        md,
        "\nMedian over the rounds of the per-round ratio ours / peer (below 1.0: ours is better):\n\n| peer | p50 | p99 | CPU per delivery |\n| --- | --- | --- | --- |"
    );
    let p50 = |v: &Value| f(&v["per_delivery"], "p50_ms");
    let p99 = |v: &Value| f(&v["per_delivery"], "p99_ms");
    let cpu = |v: &Value| f(v, "cpu_us_per_delivery");
    let mut ratios = json!({});
    for (t, peer) in groups.iter().filter(|(t, _)| t != "ours") {
        let (a, b, c) = (
            ratio(ours, peer, &p50),
            ratio(ours, peer, &p99),
            ratio(ours, peer, &cpu),
        );
        let _ = writeln!(
            md,
            "| {t} | {} | {} | {} |",
            fmt_ratio(a),
            fmt_ratio(b),
            fmt_ratio(c)
        );
        ratios[t.as_str()] = json!({ "p50": a, "p99": b, "cpu_per_delivery": c });
    }

    // The distribution chart: each server's round with the median p99.
    let series: Vec<(String, Vec<(f64, f64)>)> = groups
        .iter()
        .filter_map(|(t, rs)| {
            let mut rs = rs.clone();
            rs.sort_by(|a, b| p99(a).total_cmp(&p99(b)));
            let mid = rs.get(rs.len() / 2)?;
            let points = mid["per_delivery"]["spectrum"]
                .as_array()?
                .iter()
                .filter_map(|p| Some((nines(p[0].as_f64()?), p[1].as_f64()?.max(0.01))))
                .collect();
            Some((t.clone(), points))
        })
        .collect();
    let chart = line_chart(&Chart {
        title: format!(
            "fanout latency per delivery: {agents} subscribers, {rate} msg/s (median round)"
        ),
        x_label: "percentile".into(),
        y_label: "ms (log scale)".into(),
        x_ticks: [
            (0.0, "0"),
            (1.0, "90"),
            (2.0, "99"),
            (3.0, "99.9"),
            (4.0, "99.99"),
        ]
        .iter()
        .map(|(x, l)| (*x, (*l).to_owned()))
        .collect(),
        y_log: true,
        series,
    });
    let name = format!("fanout-latency-{agents}x{rate}.svg");
    std::fs::write(svg_dir.join(&name), chart)?;
    let _ = writeln!(md, "\n![fanout latency distribution]({svg_rel}/{name})\n");
    Ok(ratios)
}

/// A quantile on the "number of nines" axis: 0.9 → 1, 0.99 → 2, 1.0 → 4.3.
fn nines(q: f64) -> f64 {
    (-(1.0 - q).max(0.00005).log10()).min(4.3)
}

struct Chart {
    title: String,
    x_label: String,
    y_label: String,
    x_ticks: Vec<(f64, String)>,
    y_log: bool,
    series: Vec<(String, Vec<(f64, f64)>)>,
}

/// A small self-contained SVG line chart.
fn line_chart(c: &Chart) -> String {
    let (w, h) = (720.0, 400.0);
    let (left, right, top, bottom) = (70.0, 190.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let ys = |y: f64| if c.y_log { y.log10() } else { y };
    let points = c.series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(ys(y));
        y1 = y1.max(ys(y));
    }
    for (x, _) in &c.x_ticks {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
    }
    if c.y_log {
        y0 = y0.floor();
        y1 = y1.ceil();
    } else {
        y0 = 0.0;
        y1 = (y1 * 1.1).max(1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let px = |x: f64| left + (x - x0) / (x1 - x0) * pw;
    let py = |y: f64| top + ph - (ys(y) - y0) / (y1 - y0) * ph;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>
<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/>
<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>
"#,
        left + pw / 2.0,
        escape(&c.title),
        top + ph,
        left + pw,
        top + ph,
        top + ph,
        left + pw / 2.0,
        h - 12.0,
        escape(&c.x_label),
        top + ph / 2.0,
        top + ph / 2.0,
        escape(&c.y_label),
    );
    for (x, label) in &c.x_ticks {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{1:.1}" stroke="#ddd"/><text x="{0:.1}" y="{2:.1}" text-anchor="middle">{3}</text>"##,
            px(*x),
            top + ph,
            top + ph + 18.0,
            escape(label)
        );
    }
    let y_ticks: Vec<f64> = if c.y_log {
        let (lo, hi) = (y0 as i32, y1 as i32);
        (lo..=hi).map(|e| 10f64.powi(e)).collect()
    } else {
        (0..=4).map(|i| y1 * f64::from(i) / 4.0).collect()
    };
    for y in y_ticks {
        let label = if y >= 10.0 || y == 0.0 {
            format!("{y:.0}")
        } else if y >= 1.0 {
            format!("{y:.1}")
        } else {
            format!("{y}")
        };
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#ddd"/><text x="{2:.1}" y="{3:.1}" text-anchor="end">{label}</text>"##,
            py(y),
            left + pw,
            left - 6.0,
            py(y) + 4.0
        );
    }
    for (i, (name, pts)) in c.series.iter().enumerate() {
        let key = name.split(' ').next().unwrap_or(name);
        let path: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{0}" stroke-width="2" points="{1}"/>"#,
            colour(key),
            path.join(" ")
        );
        for &(x, y) in pts {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"/>"#,
                px(x),
                py(y),
                colour(key)
            );
        }
        let ly = top + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}" stroke-width="3"/><text x="{4}" y="{5}">{6}</text>"#,
            left + pw + 12.0,
            ly,
            left + pw + 32.0,
            colour(key),
            left + pw + 38.0,
            ly + 4.0,
            escape(name)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_pair_rounds_and_take_the_median() {
        let ours: Vec<Value> = [(1, 2.0), (2, 4.0), (3, 9.0)]
            .iter()
            .map(|(r, v)| json!({ "round": r, "x": v }))
            .collect();
        let peer: Vec<Value> = [(3, 3.0), (1, 1.0), (2, 4.0)]
            .iter()
            .map(|(r, v)| json!({ "round": r, "x": v }))
            .collect();
        let (o, p): (Vec<&Value>, Vec<&Value>) = (ours.iter().collect(), peer.iter().collect());
        // Per round: 2/1, 4/4, 9/3 → median 2.
        assert_eq!(ratio(&o, &p, &|v| f(v, "x")), Some(2.0));
        assert_eq!(ratio(&o, &[], &|v| f(v, "x")), None);
    }

    #[test]
    fn idle_sizes_only_one_server_ran_stay_apart_and_out_of_the_chart() {
        let runs: Vec<Value> = [
            ("ours", 19000, 5.8),
            ("ours", 10000, 6.0),
            ("floor", 10000, 13.0),
            ("ours", 10000, 6.2),
        ]
        .iter()
        .map(|(t, n, kib)| json!({ "target": t, "sockets": n, "rss_per_socket_kib": kib }))
        .collect();
        let refs: Vec<&Value> = runs.iter().collect();
        let groups = idle_groups(&refs);
        let shape: Vec<(&str, u64, usize)> = groups
            .iter()
            .map(|(t, n, rs)| (t.as_str(), *n, rs.len()))
            .collect();
        assert_eq!(
            shape,
            [("ours", 10000, 2), ("ours", 19000, 1), ("floor", 10000, 1)]
        );
        assert_eq!(most_shared_size(&groups), Some(10000));
        assert_eq!(most_shared_size(&groups[1..2]), Some(19000));
        assert_eq!(most_shared_size(&[]), None);
    }

    #[test]
    fn nines_put_percentiles_on_a_log_axis() {
        assert!((nines(0.9) - 1.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
        assert_eq!(nines(1.0), 4.3);
    }

    #[test]
    fn a_chart_has_one_line_per_series() {
        let svg = line_chart(&Chart {
            title: "t <1>".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_ticks: vec![(0.0, "0".into()), (1.0, "1".into())],
            y_log: true,
            series: vec![
                ("ours".into(), vec![(0.0, 1.0), (1.0, 10.0)]),
                ("floor".into(), vec![(0.0, 0.5), (1.0, 2.0)]),
            ],
        });
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("t &lt;1&gt;"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}
