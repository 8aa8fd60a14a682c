#!/usr/bin/env python3
"""Render criterion results into one markdown table and an SVG plot.

    scripts/bench-report.py [--criterion target/criterion] [--out docs/benchmarks]

Reads every `<group>/<function>[/<value>]/new/{benchmark,estimates}.json` criterion wrote,
and writes `<out>.md` (a table of medians with their confidence intervals and throughputs,
and the machine the run was on) and `<out>.svg` (medians on a log scale, one bar per
benchmark). Standard library only, so it runs on a fresh machine.
"""

import argparse
import datetime
import html
import json
import os
import platform
import subprocess
import sys


def machine():
    """A one-paragraph description of this machine."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = "rustc unknown"
    return f"{cpu}, {os.cpu_count()} cores, {mem}; {platform.system()} {platform.release()}; {rustc}"


def load(root):
    rows = []
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        med = est["median"]
        rows.append(
            {
                "group": bench["group_id"],
                "id": "/".join(x for x in (bench.get("function_id"), bench.get("value_str")) if x),
                "median_ns": med["point_estimate"],
                "lo_ns": med["confidence_interval"]["lower_bound"],
                "hi_ns": med["confidence_interval"]["upper_bound"],
                "throughput": bench.get("throughput"),
            }
        )
    rows.sort(key=lambda r: (r["group"], r["id"]))
    return rows


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_rate(per_s, unit):
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if per_s >= scale:
            return f"{per_s / scale:.3g} {prefix}{unit}/s"
    return f"{per_s:.3g} {unit}/s"


def throughput(row):
    t = row["throughput"]
    if not t:
        return ""
    (kind, n), = t.items()
    unit = {"Elements": "elem", "Bytes": "B", "BytesDecimal": "B"}.get(kind, kind)
    return fmt_rate(n / (row["median_ns"] / 1e9), unit)


def svg(rows, title):
    import math

    bar_h, gap, label_w, plot_w = 16, 4, 430, 520
    height = 40 + len(rows) * (bar_h + gap) + 30
    lo = min(r["median_ns"] for r in rows)
    hi = max(r["median_ns"] for r in rows)
    lo_exp, hi_exp = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if hi_exp == lo_exp:
        hi_exp += 1

    def x(ns):
        return label_w + plot_w * (math.log10(ns) - lo_exp) / (hi_exp - lo_exp)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 20}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="10" y="18" font-size="14">{html.escape(title)}</text>',
    ]
    for e in range(lo_exp, hi_exp + 1):
        xe = x(10**e)
        out.append(f'<line x1="{xe:.1f}" y1="28" x2="{xe:.1f}" y2="{height - 25}" stroke="#ddd"/>')
        out.append(f'<text x="{xe:.1f}" y="{height - 10}" text-anchor="middle">{fmt_time(10**e)}</text>')
    for i, r in enumerate(rows):
        y = 32 + i * (bar_h + gap)
        label = html.escape(f'{r["group"]} · {r["id"]}')
        out.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{label}</text>')
        out.append(
            f'<rect x="{label_w}" y="{y}" width="{max(x(r["median_ns"]) - label_w, 1):.1f}" '
            f'height="{bar_h}" fill="#4a7bb7"><title>{fmt_time(r["median_ns"])}</title></rect>'
        )
        out.append(f'<text x="{x(r["median_ns"]) + 4:.1f}" y="{y + 12}">{fmt_time(r["median_ns"])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--criterion", default="target/criterion")
    ap.add_argument("--out", default="docs/benchmarks")
    ap.add_argument("--command", default="cargo bench --bench healthcare && cargo bench --bench finance",
                    help="the command that produced the results, for the report")
    a = ap.parse_args()
    rows = load(a.criterion)
    if not rows:
        sys.exit(f"no criterion results under {a.criterion}: run `cargo bench` first")
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    name = os.path.basename(a.out)
    when = datetime.date.today().isoformat()
    lines = [
        "# Benchmark results",
        "",
        f"Measured {when} on: {machine()}.",
        "",
        f"Produced by `{a.command}`, rendered by `scripts/bench-report.py`. Medians of criterion's",
        "samples, with the 95% confidence interval of the median; throughput is at the median.",
        "",
        f"![medians]({name}.svg)",
        "",
        "| group | benchmark | median | 95% CI | throughput |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f'| {r["group"]} | {r["id"]} | {fmt_time(r["median_ns"])} | '
            f'{fmt_time(r["lo_ns"])} – {fmt_time(r["hi_ns"])} | {throughput(r)} |'
        )
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(a.out + ".svg", "w") as f:
        f.write(svg(rows, f"criterion medians, {when}"))
    print(f"wrote {a.out}.md and {a.out}.svg ({len(rows)} benchmarks)")


if __name__ == "__main__":
    main()
