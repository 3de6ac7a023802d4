//! SVG output (`trace svg`): a per-CPU timeline, one row per CPU with a
//! rectangle per running interval coloured by container, a time axis in
//! ms and a legend, and below it the wakeup-to-run latency histogram in
//! log2 µs buckets. Written as plain text.

use crate::dump::{name_str, Dump};
use crate::model::Model;
use crate::report::{bucket_low_us, Report};
use std::fmt::Write;

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 70.0;
const ROW: f64 = 26.0;
const TOP: f64 = 30.0;
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// The colour of a container's rectangles.
pub fn colour(container: i32) -> &'static str {
    PALETTE[container.rem_euclid(PALETTE.len() as i32) as usize]
}

/// Escapes text for an SVG text node or attribute.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Draws the picture.
pub fn render(d: &Dump, m: &Model, r: &Report) -> String {
    let (start, stop) = (
        d.header.start_tsc,
        d.header.stop_tsc.max(d.header.start_tsc),
    );
    let span = (stop - start).max(1) as f64;
    let plot = WIDTH - LEFT - 10.0;
    let x = |t: u64| LEFT + (t.clamp(start, stop) - start) as f64 / span * plot;

    let rows = m.cpus.len() as f64;
    let axis_y = TOP + rows * ROW;
    let legend_y = axis_y + 30.0;
    // Room above the bars for the tallest one's count.
    let hist_top = legend_y + 56.0;
    let hist_h = 120.0;
    let height = hist_top + hist_h + 50.0;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="18" font-size="13">berth trace: {} CPUs, {:.3} ms</text>"#,
        d.header.cpus,
        r.duration_ns as f64 / 1e6
    );
    for (i, tl) in m.cpus.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        let _ = writeln!(s, r#"<g class="cpu-row" data-cpu="{}">"#, tl.cpu);
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{y}" width="{plot}" height="{}" fill="#f4f4f4"/>"##,
            ROW - 4.0
        );
        let _ = writeln!(
            s,
            r#"<text x="4" y="{:.1}">CPU {}</text>"#,
            y + ROW / 2.0 + 2.0,
            tl.cpu
        );
        for iv in tl.intervals.iter().filter(|iv| !iv.is_idle()) {
            let (x0, x1) = (x(iv.start_tsc), x(iv.end_tsc));
            let name = d.proc_name(iv.pid).unwrap_or_else(|| "?".into());
            let _ = writeln!(
                s,
                r#"<rect x="{x0:.2}" y="{y}" width="{:.2}" height="{}" fill="{}"><title>{} pid {} ctr {}</title></rect>"#,
                (x1 - x0).max(0.5),
                ROW - 4.0,
                colour(iv.container),
                escape(&name),
                iv.pid,
                iv.container
            );
        }
        let _ = writeln!(s, "</g>");
    }

    // Time axis: ticks at a round step of milliseconds.
    let ms = r.duration_ns as f64 / 1e6;
    if ms > 0.0 {
        let step = tick_step(ms);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="#888"/>"##,
            LEFT + plot
        );
        let mut k = 0u32;
        while f64::from(k) * step <= ms * (1.0 + 1e-9) {
            let t = f64::from(k) * step;
            let tx = LEFT + t / ms * plot;
            let _ = writeln!(
                s,
                r##"<line class="tick" x1="{tx:.2}" y1="{axis_y}" x2="{tx:.2}" y2="{}" stroke="#888"/><text x="{tx:.2}" y="{}" text-anchor="middle">{} ms</text>"##,
                axis_y + 4.0,
                axis_y + 15.0,
                trim(t)
            );
            k += 1;
        }
    }

    // Legend: every container that ran or has a table entry.
    let mut lx = LEFT;
    for c in &r.containers {
        let name = d
            .ctr(c.id)
            .map_or_else(|| c.name.clone(), |e| name_str(&e.name));
        let label = format!(
            "ctr {} {} (weight {})",
            c.id,
            name,
            c.weight.map_or_else(|| "-".into(), |w| w.to_string())
        );
        let _ = writeln!(
            s,
            r#"<rect class="legend" x="{lx}" y="{legend_y}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            colour(c.id),
            lx + 16.0,
            legend_y + 10.0,
            escape(&label)
        );
        lx += 30.0 + 7.0 * label.len() as f64;
    }

    // Histogram of wakeup latency.
    let hist = &r.wakeup.histogram;
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}" font-size="13">wakeup to run latency ({} wakeups), log2 µs buckets</text>"#,
        hist_top - 24.0,
        r.wakeup.count
    );
    let most = hist.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bw = if hist.is_empty() {
        0.0
    } else {
        (plot / hist.len() as f64).min(60.0)
    };
    for (k, &n) in hist.iter().enumerate() {
        let h = n as f64 / most * hist_h;
        let bx = LEFT + k as f64 * bw;
        let _ = writeln!(
            s,
            r##"<rect class="bucket" x="{bx:.2}" y="{:.2}" width="{:.2}" height="{h:.2}" fill="#4e79a7"><title>{n}</title></rect>"##,
            hist_top + hist_h - h,
            (bw - 2.0).max(1.0)
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.2}" y="{}" text-anchor="middle">{}</text>"#,
            bx + bw / 2.0,
            hist_top + hist_h + 14.0,
            if k == 0 {
                "<1".replace('<', "&lt;")
            } else {
                bucket_low_us(k).to_string()
            }
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.2}" y="{:.2}" text-anchor="middle">{n}</text>"#,
            bx + bw / 2.0,
            hist_top + hist_h - h - 3.0
        );
    }
    let _ = writeln!(s, "</svg>");
    s
}

/// A round tick step (1, 2 or 5 times a power of ten) giving at most
/// about ten ticks over `span`.
pub fn tick_step(span: f64) -> f64 {
    let raw = span / 10.0;
    let pow = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * pow)
        .find(|&st| st >= raw)
        .unwrap_or(10.0 * pow)
}

/// A tick label: no trailing zeros.
fn trim(t: f64) -> String {
    let s = format!("{t:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
