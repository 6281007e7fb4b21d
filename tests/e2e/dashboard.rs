//! The Grafana dashboard (`deploy/grafana/pforte.json`): it parses as Grafana's dashboard model,
//! every panel has a query, and every metric its queries read is exported by a running gateway.
//!
//! The model is a typed one with `deny_unknown_fields` rather than a JSON Schema: Grafana
//! publishes its dashboard schema as CUE inside its source tree (kinds/dashboard), not as a file
//! a test can fetch offline, and the fields below are the ones the dashboard JSON model
//! documents (grafana.com, "Dashboard JSON model") and this dashboard uses. A misspelt field
//! (`target` for `targets`, `gridpos`) is refused instead of being ignored by Grafana and
//! showing an empty panel; the panel grid and the types Grafana knows are checked too.

use std::collections::BTreeSet;
use std::path::Path;

use pforte_e2e::monitored::{both_ldap_servers, gateway_with_traffic, unexported_in};
use pforte_e2e::{env, promql};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)] // read by serde to check the shape; the test uses a few
struct Dashboard {
    annotations: Value,
    description: String,
    editable: bool,
    fiscal_year_start_month: u8,
    graph_tooltip: u8,
    id: Option<u64>,
    links: Vec<Value>,
    panels: Vec<Panel>,
    refresh: String,
    schema_version: u32,
    tags: Vec<String>,
    templating: Templating,
    time: TimeRange,
    timepicker: Value,
    timezone: String,
    title: String,
    uid: String,
    version: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Templating {
    list: Vec<Variable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct Variable {
    name: String,
    label: String,
    #[serde(rename = "type")]
    kind: VariableKind,
    query: Value,
    datasource: Option<Datasource>,
    definition: Option<String>,
    multi: Option<bool>,
    include_all: Option<bool>,
    all_value: Option<String>,
    current: Value,
    refresh: Option<u8>,
    hide: u8,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum VariableKind {
    Datasource,
    Query,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TimeRange {
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Datasource {
    #[serde(rename = "type")]
    kind: String,
    uid: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct Panel {
    id: u32,
    #[serde(rename = "type")]
    kind: PanelKind,
    title: String,
    description: Option<String>,
    datasource: Option<Datasource>,
    grid_pos: GridPos,
    #[serde(default)]
    targets: Vec<Target>,
    field_config: Option<Value>,
    options: Option<Value>,
    collapsed: Option<bool>,
    panels: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize, PartialEq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum PanelKind {
    Row,
    Timeseries,
    Stat,
    Gauge,
    Table,
    Bargauge,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridPos {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct Target {
    datasource: Datasource,
    expr: String,
    legend_format: String,
    ref_id: String,
}

fn load() -> Dashboard {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/grafana/pforte.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_promql_reader_finds_metric_names_and_only_them() {
    let expr = r#"histogram_quantile(0.95, sum by (server, le) (rate(pforte_directory_request_duration_seconds_bucket{instance=~"$instance",result="ok"}[$__rate_interval]))) / on (app) group_left (x) max without (y) (pforte_up_total offset 5m) > bool 1e3"#;
    let names = promql::metric_names(expr);
    assert_eq!(
        names,
        BTreeSet::from([
            "pforte_directory_request_duration_seconds_bucket".to_owned(),
            "pforte_up_total".to_owned()
        ])
    );
    // A name the scrape lacks is reported; a histogram's series map to their family.
    let scrape = "# TYPE pforte_a_seconds histogram\n# TYPE pforte_b_total counter\n";
    let families = promql::families(scrape);
    let asked: Vec<String> = [
        "pforte_a_seconds_bucket",
        "pforte_b_total",
        "pforte_b_total_count",
        "pforte_c",
    ]
    .map(String::from)
    .into();
    assert_eq!(
        promql::unexported(&asked, &families),
        ["pforte_b_total_count", "pforte_c"]
    );
}

#[tokio::test]
async fn dashboard_is_a_grafana_model_whose_queries_read_exported_metrics() {
    let dashboard = load();
    assert_eq!(dashboard.title, "Pforte");
    assert!(dashboard.schema_version >= 36, "a current Grafana model");
    assert!(
        dashboard
            .templating
            .list
            .iter()
            .any(|v| v.kind == VariableKind::Datasource)
    );
    let mut ids = BTreeSet::new();
    let mut exprs = Vec::new();
    let mut placed: Vec<(&str, &GridPos)> = Vec::new();
    for panel in &dashboard.panels {
        assert!(ids.insert(panel.id), "panel id {} twice", panel.id);
        let GridPos { x, w, h, .. } = panel.grid_pos;
        assert!(
            w >= 1 && x + w <= 24 && h >= 1,
            "{}: outside the 24-column grid",
            panel.title
        );
        let at = &panel.grid_pos;
        for (other, pos) in &placed {
            let apart = at.x + at.w <= pos.x
                || pos.x + pos.w <= at.x
                || at.y + at.h <= pos.y
                || pos.y + pos.h <= at.y;
            assert!(apart, "{} overlaps {other}", panel.title);
        }
        placed.push((&panel.title, at));
        if panel.kind == PanelKind::Row {
            assert!(panel.targets.is_empty(), "a row has no query");
            continue;
        }
        assert!(!panel.targets.is_empty(), "{}: no query", panel.title);
        for target in &panel.targets {
            assert!(
                !target.expr.trim().is_empty(),
                "{}: empty query",
                panel.title
            );
            assert!(
                !promql::metric_names(&target.expr).is_empty(),
                "{}: the query reads no metric: {}",
                panel.title,
                target.expr
            );
            exprs.push(target.expr.clone());
        }
    }
    let panel_titles: Vec<&str> = dashboard.panels.iter().map(|p| p.title.as_str()).collect();
    for wanted in [
        "Traffic",
        "Logins and sessions",
        "Token grants (OpenID Connect)",
        "Directory and session store",
        "Certificate expiry",
    ] {
        assert!(
            panel_titles.contains(&wanted),
            "no {wanted:?} in {panel_titles:?}"
        );
    }

    let (_gw, scrape) = gateway_with_traffic(
        &both_ldap_servers(),
        &env("PFORTE_TEST_REDIS_URL"),
        "dashboard:",
    )
    .await;
    let missing = unexported_in(&scrape, &exprs);
    assert!(
        missing.is_empty(),
        "not exported by the gateway: {missing:#?}"
    );
}
