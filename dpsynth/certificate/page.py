"""The certificate as one self-contained HTML page, for a custodian who is not a DP expert.

Built from the certificate dict alone (:mod:`dpsynth.certificate.document`), with the report
package's escaping, tables and inline SVG charts: nothing is loaded from outside the file. The
summary, the verdict and the privacy statement come first, so that they fill the first printed
page; attack parameters are tables collapsed by default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dpsynth.certificate.readings import check_reading
from dpsynth.report.axes import format_number
from dpsynth.report.html import details, escape, page, paragraph, table
from dpsynth.report.svg import bar_chart, line_chart, stacked_bar

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


def _lifetime(release: Mapping[str, Any]) -> str:
    """The dataset's lifetime spend in words, or why it is not known."""
    spend = release.get("lifetime_spend")
    if spend is None:
        return str(release.get("ledger_note") or "no ledger")
    cap = spend["cap"]
    limit = "no cap" if cap is None else f"cap epsilon {cap['epsilon']:g}" + (
        "" if cap["delta"] is None else f", delta {cap['delta']:.3g}"
    )
    releases = "release" if spend["n_releases"] == 1 else "releases"
    return (f"epsilon {spend['epsilon']:.4g}, delta {spend['delta']:.3g} over {spend['n_releases']} {releases} "
            f"on this dataset, this one included ({limit})")


def _summary(cert: Mapping[str, Any]) -> str:
    """The verdict and what is certified: release, dataset, date, epsilon, lifetime spend."""
    verdict, release, privacy = cert["verdict"], cert["release"], cert["privacy"]
    colour = "#1b7a3a" if verdict == "PASS" else "#b00020"
    rows = [
        {"item": "verdict", "value": f"{verdict} under the {cert['policy']['source']}"},
        {"item": "release id", "value": release.get("release_id") or "none: not a dpsynth release"},
        {"item": "dataset", "value": release.get("dataset") or "not named"},
        {"item": "date", "value": release.get("date")},
    ]
    if privacy is not None:
        rows.append({
            "item": "this release",
            "value": f"epsilon {privacy['spent']['epsilon']:.4g}, delta {privacy['spent']['delta']:.3g} "
                     f"(stated {privacy['epsilon']:g}, {privacy['delta']:g})",
        })
    rows.append({"item": "dataset's lifetime spend (ledger)", "value": _lifetime(release)})
    return (
        f'<p class="verdict" style="color:{colour}">{escape(verdict)}</p>'
        + table(rows, ["item", "value"])
        + paragraph("Reasons:") + _list(cert["reasons"])
        + f'<p class="warning">{escape(cert.get("annex", ""))}</p>'
        + f"<p><strong>{escape(PLAIN_DISCLAIMER)}</strong></p>"
    )


def _privacy(cert: Mapping[str, Any]) -> str:
    privacy = cert["privacy"]
    if privacy is None:
        return paragraph(cert["privacy_note"].capitalize() + ".")
    rows = [
        {"item": "statement", "value": privacy["statement"]},
        {"item": "unit of privacy", "value": privacy["unit"]["relation"]},
        {"item": "method", "value": privacy["method"]["name"]},
        {"item": "composition", "value": privacy["composition"]},
        {"item": "conversion to (epsilon, delta)", "value": privacy["conversion"]},
        {"item": "schema provenance", "value": privacy["schema_provenance"]},
        {"item": "noise source", "value": privacy["noise_source"]},
    ]
    return table(rows, ["item", "value"]) + _spend(privacy)


def _spend(privacy: Mapping[str, Any]) -> str:
    """The joint total cut into each part's share (the drawn shares add up to it), beside the naive sum."""
    parts, joint = privacy["parts"], float(privacy["spent"]["epsilon"])
    naive, saved = privacy["naive_sum"]["epsilon"], privacy["saved_by_joint_accounting"]
    drawn = {name: part["epsilon_share"] for name, part in parts.items() if part["epsilon_share"] > 0}
    chart = stacked_bar(
        drawn or {"release": joint},
        title="Privacy spend: the joint total and each part's share of it",
        total_label="joint epsilon of the release",
        reference=("naive per-part sum", naive),
    ) if joint > 0 else ""
    rows = [
        {
            "part": name,
            "share of the joint total": part["share_of_total"],
            "epsilon share": part["epsilon_share"],
            "epsilon if it ran alone": part["epsilon_alone"],
            "mechanisms": ", ".join(sorted({event.get("mechanism", "?") for event in part["events"]})),
            "measurements": sum(int(event.get("count", 1)) for event in part["events"]),
        }
        for name, part in parts.items()
    ]
    note = paragraph(
        f"The release's epsilon is {format_number(joint)}: the parts are composed jointly and each part's "
        f"share of that total follows its {privacy['share_basis']}, so the shares add up to it. "
        f"Converting each part alone and adding them up would state {format_number(naive)}: "
        f"joint accounting saved {format_number(saved)}."
    )
    return chart + note + table(rows)


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
            "reading": attack["reading"]["text"],
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


def _flat(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``(name, value)`` pairs of a parameter, nested mappings flattened with dotted names."""
    if isinstance(value, Mapping):
        return [pair for key, item in value.items() for pair in _flat(item, f"{prefix}{key}.")]
    if isinstance(value, (list, tuple)):
        return [(prefix.rstrip("."), ", ".join(str(item) for item in value))]
    return [(prefix.rstrip("."), format_number(value) if isinstance(value, float) else str(value))]


def _parameters(attacks: Sequence[Mapping[str, Any]]) -> str:
    """Each attack's parameters as a table of (attack, parameter, value), collapsed by default."""
    rows = [
        {"attack": _risk_name(attack), "parameter": name, "value": value}
        for attack in attacks
        for name, value in _flat(attack["parameters"])
    ]
    return details(f"Parameters of these attacks ({len(attacks)})", table(rows, ["attack", "parameter", "value"]))


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
            "status": risk["reading"]["status"],
            "reading": risk["reading"]["text"],
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
    statuses = cert["audit"].get("risk_statuses", {})
    rows = [
        {
            "check": check["description"],
            "result": {True: "pass", False: "FAIL", None: "does not decide"}[check["passed"]],
            "reading": check_reading(check, statuses),
        }
        for check in cert["checks"]
    ]
    documentation = [f"{key}: {text}" for key, text in cert["policy"]["documentation"].items()]
    return table(rows, ["check", "result", "reading"]) + details("What each threshold means", _list(documentation))


def _data(cert: Mapping[str, Any]) -> str:
    data = cert["data"]
    rows = [
        {"item": "training rows", "value": data["n_train"]},
        {"item": "holdout (control) rows", "value": data["n_holdout"]},
        {"item": "synthetic rows", "value": data["n_synthetic"]},
        {"item": "holdout rule", "value": data["holdout_rule"]},
        {"item": "schema", "value": f"{cert['schema']['source']} (provenance: {cert['schema']['provenance']})"},
        {"item": "audit level", "value": cert["audit"]["level"]},
    ]
    rows += [{"item": f"sha256 of {name}", "value": digest} for name, digest in cert["files"].items()]
    skipped = [f"{name}: {reason}" for name, reason in cert["audit"]["skipped"].items()]
    return table(rows, ["item", "value"]) + (paragraph("Attacks not run:") + _list(skipped) if skipped else "")


# The pairs whose trends the synthetic data keeps worst, listed on the page (all are in the JSON).
WORST_PAIRS = 10


def _loss(fidelity: Mapping[str, Any]) -> str:
    """How much of the real data the schema folds into "other" or clips, overall and per column."""
    loss = fidelity["schema_loss"]
    small = f"fewer than {loss['suppressed_below']} rows"

    def share(value: Any) -> str:
        return small if value is None else f"{float(value):.1%}"

    rows = [
        {"column": row["column"], "folded into other": share(row["folded"]),
         "clipped below": share(row["below_bounds"]), "clipped above": share(row["above_bounds"])}
        for row in loss["columns"]
        if any(row[key] != 0 for key in ("folded", "below_bounds", "above_bounds"))
    ]
    if not rows:
        return paragraph("The schema represents every training value as it is: no value is folded into "
                         "'other' or clipped at a bound.")
    overall = (
        f"The schema folds into 'other' or clips {share(loss['cells'])} of the training cells (mean over "
        f"columns), in {share(loss['rows'])} of the training rows; a share resting on {small} is not shown. "
        "Per column:"
    )
    return paragraph(overall) + table(rows)


def _fidelity(cert: Mapping[str, Any]) -> str:
    """Fidelity on the real values first, the schema's folded view labelled as such, and the scores."""
    fidelity = cert["fidelity"]
    real, folded = fidelity["real_values"], fidelity["folded_view"]
    columns = ["figure", "on the real values", "on the schema's folded view"]
    rows = [
        dict(zip(columns, (f"mean {k}-way TVD", real.get(f"tvd_{k}way"), folded[f"tvd_{k}way"]), strict=True))
        for k in (1, 2, 3)
    ]
    rows += [
        {"figure": "mean column shape", "on the real values": fidelity["column_shape"]},
        {"figure": "mean pair trend", "on the real values": fidelity["pair_trend"]},
    ]
    text = paragraph(
        "Total variation distance (TVD) between the synthetic and the training rows: 0 is identical, 1 "
        f"disjoint. On the real values: {real['rule']}. On the schema's folded view: {folded['rule']}; "
        "a schema that folds or clips much makes that view look closer than the data is."
    )
    shapes = [{"column": name, "column shape": score} for name, score in fidelity["column_shapes"].items()]
    scored = sorted((p for p in fidelity["pairs"] if p["score"] is not None), key=lambda p: p["score"])
    worst = [{"columns": " and ".join(p["columns"]), "pair trend": p["score"]} for p in scored[:WORST_PAIRS]]
    pairs = paragraph(
        "Column shape: 1 minus the Kolmogorov-Smirnov statistic (numbers, dates) or 1 minus the TVD "
        "(categories). Pair trend: for two numeric columns 1 minus half the change in their correlation, "
        f"otherwise 1 minus the TVD of their two-way table (1: kept). The {len(worst)} pairs kept worst:"
    ) + table(worst, ["columns", "pair trend"]) if worst else ""
    return (
        table(rows, columns) + text
        + _loss(fidelity)
        + details(f"Column shape of each column ({len(shapes)})", table(shapes, ["column", "column shape"]))
        + pairs
        + f'<p class="warning">{escape(cert.get("annex", ""))}</p>'
        + paragraph("Fidelity: " + fidelity["note"] + ".")
    )


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
        ("Summary", _summary(cert)),
        ("Privacy statement", _privacy(cert)),
        ("Membership inference", _membership(cert)),
        ("Singling out, linkage and inference", _risks(cert)),
        ("Policy checks", _checks(cert)),
        ("Fidelity", _fidelity(cert)),
        ("Data and files", _data(cert)),
        ("What the attack results mean", paragraph(cert["disclaimer"]) + _list(cert.get("audit_limits", []))),
    ]
    if cert.get("schema_warnings"):
        sections.insert(2, ("Schema warnings", _schema_warnings(cert)))
    release = cert["release"].get("release_id")
    lead = (f"{cert['subject']}" + (f" {release}" if release else "")
            + f", certificate version {cert['dpsynth_certificate']}, made {cert['created_at']}")
    return page(f"Release certificate: {cert['verdict']}", sections, lead=lead)
