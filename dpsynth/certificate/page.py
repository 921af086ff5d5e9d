"""The certificate as one self-contained HTML page, for a custodian who is not a DP expert.

Built from the certificate dict alone (:mod:`dpsynth.certificate.document`), with the report
package's escaping, tables and inline SVG charts: nothing is loaded from outside the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dpsynth.report.axes import format_number
from dpsynth.report.columns import real_and_synthetic_chart
from dpsynth.report.html import escape, page, paragraph, table
from dpsynth.report.svg import bar_chart, line_chart

SHORT_NAMES = {
    "distance_to_closest_record": "closest distance",
    "density_ratio": "density ratio",
    "shadow_model": "shadow model",
    "singling_out_univariate": "1-column",
    "singling_out_multivariate": "3-column",
    "linkage": "linkage",
}
PLAIN_DISCLAIMER = (
    "Read this first: the attacks below were run by the data custodian against this one release. "
    "They show how well some known attacks did; they are not part of the privacy guarantee. "
    "The guarantee (if any) is the privacy statement, which comes from the noise added and the "
    "budget spent. Passing these attacks does not prove the data is private, and an "
    "\u201cempirical epsilon\u201d here is a lower bound found by an attack, never a promise."
)


def _interval(value: Any, lower: Any, upper: Any) -> str:
    return f"{format_number(value)} [{format_number(lower)}, {format_number(upper)}]"


def _list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def _verdict(cert: Mapping[str, Any]) -> str:
    verdict = cert["verdict"]
    colour = "#1b7a3a" if verdict == "PASS" else "#b00020"
    headline = (
        f'<p style="font-size:1.6rem;font-weight:700;color:{colour}">{escape(verdict)}</p>'
        f"{paragraph('Policy: ' + cert['policy']['source'] + '. Reasons:')}{_list(cert['reasons'])}"
    )
    return headline + f"<p><strong>{escape(PLAIN_DISCLAIMER)}</strong></p>"


def _privacy(cert: Mapping[str, Any]) -> str:
    privacy = cert["privacy"]
    if privacy is None:
        return paragraph(cert["privacy_note"].capitalize() + ".")
    rows = [
        {"item": "statement", "value": privacy["statement"]},
        {"item": "unit of privacy", "value": privacy["unit"]["relation"]},
        {"item": "stated epsilon, delta", "value": f"{privacy['epsilon']:g}, {privacy['delta']:g}"},
        {
            "item": "spent epsilon, delta",
            "value": f"{privacy['spent']['epsilon']:.4g}, {privacy['spent']['delta']:.3g}",
        },
        {"item": "method", "value": privacy["method"]["name"]},
        {"item": "composition", "value": privacy["composition"]},
        {"item": "conversion to (epsilon, delta)", "value": privacy["conversion"]},
        {"item": "schema provenance", "value": privacy["schema_provenance"]},
        {"item": "noise source", "value": privacy["noise_source"]},
    ]
    parts = privacy["parts"]
    spend_rows = []
    for name, part in parts.items():
        mechanisms = sorted({event.get("mechanism", "?") for event in part["events"]})
        count = sum(int(event.get("count", 1)) for event in part["events"])
        spend_rows.append(
            {
                "part": name,
                "share of the budget": part["fraction"],
                "epsilon of this part alone": part["epsilon_alone"],
                "mechanisms": ", ".join(mechanisms),
                "measurements": count,
            }
        )
    chart = bar_chart(
        list(parts),
        {"epsilon alone": [part["epsilon_alone"] for part in parts.values()]},
        title="Privacy spend by part",
        y_label="epsilon",
    )
    note = paragraph(
        "Each part's epsilon is what it would cost alone; the release composes them jointly, "
        "so the total is less than their sum."
    )
    return table(rows, ["item", "value"]) + chart + note + table(spend_rows)


def _membership(cert: Mapping[str, Any]) -> str:
    attacks = cert["audit"]["membership"]
    rows = [
        {
            "attack": attack["name"],
            "members v non-members": f"{attack['n_members']} v {attack['n_nonmembers']}",
            "ROC AUC [95%]": _interval(attack["auc"]["value"], attack["auc"]["lower"], attack["auc"]["upper"]),
            "guessing AUC range": _interval(0.5, attack["baseline_auc"]["lower"], attack["baseline_auc"]["upper"]),
            "TPR at FPR 1%": _interval(*attack["tpr_at_fpr"]["0.01"].values()),
            "TPR at FPR 0.1%": _interval(*attack["tpr_at_fpr"]["0.001"].values()),
            "empirical epsilon (lower bound)": attack["epsilon_lower_bound"],
            "largest bound these sizes could show": attack["max_certifiable_epsilon"],
        }
        for attack in attacks
    ]
    chart = line_chart(
        {
            SHORT_NAMES.get(attack["name"], attack["name"]): (attack["roc"]["fpr"], attack["roc"]["tpr"])
            for attack in attacks
        },
        title="ROC curves of the membership attacks",
        x_label="false positive rate",
        y_label="true positive rate",
        diagonal=True,
    )
    text = paragraph(
        "Can an attacker tell the records the generator was trained on from similar records it never "
        "saw? The diagonal is guessing. An AUC near 0.5 and a small TPR at a low FPR mean the attack "
        "could not tell them apart."
    )
    return text + chart + table(rows) + _parameters(attacks)


def _parameters(attacks: Sequence[Mapping[str, Any]]) -> str:
    """Each attack's parameters, as compact JSON (what was run, at what size)."""
    rows = [
        {"attack": _risk_name(attack), "parameters": json.dumps(attack["parameters"], sort_keys=True, default=str)}
        for attack in attacks
    ]
    return paragraph("Parameters of each attack:") + table(rows, ["attack", "parameters"])


def _risks(cert: Mapping[str, Any]) -> str:
    risks = cert["audit"]["risks"]
    if not risks:
        return paragraph("No Anonymeter-style attack could be run (see the skipped attacks).")
    names = [_risk_name(risk) for risk in risks]
    inference = [risk for risk in risks if risk["parameters"].get("secret")]
    others = [risk for risk in risks if not risk["parameters"].get("secret")]
    charts = ""
    if others:
        charts += _rates_chart(
            others,
            [SHORT_NAMES.get(r["name"], r["name"]) for r in others],
            "Singling out (1- and 3-column predicates) and linkage",
        )
    if inference:
        labels = [r["parameters"]["secret"] for r in inference]
        charts += _rates_chart(inference, labels, "Attribute inference, by secret column")
    rows = [
        {
            "attack": name,
            "attacks made": risk["n_attacks"],
            "risk [95%]": _interval(risk["risk"], *risk["risk_interval"]),
            "beats the random guess": "yes" if risk["beats_baseline"] else "no",
        }
        for name, risk in zip(names, risks, strict=True)
    ]
    text = paragraph(
        "Singling out, linkage and attribute inference in the style of Anonymeter: the risk is the part "
        "of the attack's success on training records that the same attack on control records does not "
        "explain, (attack - control) / (1 - control)."
    )
    return text + charts + table(rows) + _parameters(risks)


def _rates_chart(risks: Sequence[Mapping[str, Any]], labels: Sequence[str], title: str) -> str:
    """Success on training records beside control records and a random guess, with intervals."""
    series, intervals = {}, {}
    for label, key in (("training records", "attack"), ("control records", "control"), ("random guess", "baseline")):
        series[label] = [risk[key]["value"] for risk in risks]
        intervals[label] = [(risk[key]["low"], risk[key]["high"]) for risk in risks]
    return bar_chart(
        labels, series, intervals=intervals, title=title, y_label="success rate", width=max(480, 64 * len(labels))
    )


def _risk_name(risk: Mapping[str, Any]) -> str:
    secret = risk["parameters"].get("secret")
    return f"inference of {secret}" if secret else risk["name"].replace("_", " ")


def _checks(cert: Mapping[str, Any]) -> str:
    rows = [
        {
            "check": check["description"],
            "value": check["value"],
            "threshold": check["threshold"],
            "result": {True: "pass", False: "FAIL", None: "not measured"}[check["passed"]],
        }
        for check in cert["checks"]
    ]
    documentation = [f"{key}: {text}" for key, text in cert["policy"]["documentation"].items()]
    return table(rows, ["check", "value", "threshold", "result"]) + _list(documentation)


def _data(cert: Mapping[str, Any]) -> str:
    data, fidelity = cert["data"], cert["fidelity"]
    rows = [
        {"item": "training rows", "value": data["n_train"]},
        {"item": "holdout (control) rows", "value": data["n_holdout"]},
        {"item": "synthetic rows", "value": data["n_synthetic"]},
        {"item": "holdout rule", "value": data["holdout_rule"]},
        {"item": "schema", "value": f"{cert['schema']['source']} (provenance: {cert['schema']['provenance']})"},
        {"item": "audit level", "value": cert["audit"]["level"]},
        {"item": "mean 1-way TVD", "value": fidelity["tvd_1way"]},
        {"item": "mean 2-way TVD", "value": fidelity["tvd_2way"]},
        {"item": "mean 3-way TVD", "value": fidelity["tvd_3way"]},
        {"item": "mean column shape", "value": fidelity.get("column_shape")},
        {"item": "mean pair trend", "value": fidelity.get("pair_trend")},
    ]
    rows += [{"item": f"sha256 of {name}", "value": digest} for name, digest in cert["files"].items()]
    skipped = [f"{name}: {reason}" for name, reason in cert["audit"]["skipped"].items()]
    text = paragraph("Fidelity: " + fidelity["note"] + ".")
    return table(rows, ["item", "value"]) + text + (paragraph("Attacks not run:") + _list(skipped) if skipped else "")


# The pairs whose trends the synthetic data keeps worst, listed on the page (all are in the JSON).
WORST_PAIRS = 10


def _columns(cert: Mapping[str, Any]) -> str:
    """A chart per column, real beside synthetic, and the pairs whose trends are kept worst."""
    fidelity = cert["fidelity"]
    views = fidelity.get("columns", [])
    if not views:
        return paragraph("No column view was recorded.")
    text = paragraph(
        "Each chart shows the share of rows in each bin or category of one column, in the real "
        "training rows and in the synthetic rows, with missing cells, values outside the schema's "
        "bounds and values outside its categories as bars of their own. The column shape is 1 minus "
        "the Kolmogorov-Smirnov statistic (numbers, dates) or 1 minus the total variation distance "
        "(categories): 1 means the same distribution. A real share of a bar holding fewer than "
        f"{fidelity.get('suppressed_below')} real rows is not shown (n/a)."
    )
    charts = "".join(real_and_synthetic_chart(view) for view in views)
    scored = sorted((p for p in fidelity.get("pairs", []) if p["score"] is not None), key=lambda p: p["score"])
    rows = [{"columns": " and ".join(p["columns"]), "pair trend": p["score"]} for p in scored[:WORST_PAIRS]]
    pairs = paragraph(
        "Pair trend: for two numeric columns 1 minus half the change in their correlation, otherwise "
        "1 minus the total variation distance of their two-way table (1: the relation is kept). "
        f"The {len(rows)} pairs kept worst:"
    ) + table(rows, ["columns", "pair trend"]) if rows else ""
    return text + charts + pairs


def _schema_warnings(cert: Mapping[str, Any]) -> str:
    rows = [{"column": w["column"], "problem": w["problem"], "fix": w["fix"]} for w in cert["schema_warnings"]]
    text = paragraph(
        "Schema discovery under DP found these columns poorly represented; the synthetic data is less "
        "faithful there. The fix says what to change for the next release."
    )
    return text + table(rows, ["column", "problem", "fix"])


def render_certificate(cert: Mapping[str, Any]) -> str:
    """The HTML page of a certificate (see the module docstring)."""
    sections = [
        ("Verdict", _verdict(cert)),
        ("Privacy statement", _privacy(cert)),
        ("Membership inference", _membership(cert)),
        ("Singling out, linkage and inference", _risks(cert)),
        ("Policy checks", _checks(cert)),
        ("Data, files and fidelity", _data(cert)),
        ("Fidelity, column by column", _columns(cert)),
        ("What the attack results mean", paragraph(cert["disclaimer"])),
    ]
    if cert.get("schema_warnings"):
        sections.insert(2, ("Schema warnings", _schema_warnings(cert)))
    lead = f"{cert['subject']}, certificate version {cert['dpsynth_certificate']}, made {cert['created_at']}"
    return page(f"Release certificate: {cert['verdict']}", sections, lead=lead)
