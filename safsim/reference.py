"""The scenario reference, generated from the configuration models.

Objects:
    field_comments: the trailing ``#`` comment of every field in safsim/config.py, by class.
    reference_rows: one row per scenario key path (path, type, default, allowed, notes).
    render_reference: the Markdown text of docs/scenario-reference.md.

Run ``python -m safsim.reference > docs/scenario-reference.md`` to regenerate; a test fails
when the committed file differs from what the code generates, so the reference cannot drift
from the config models.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from safsim import config

__all__ = ["field_comments", "reference_rows", "render_reference"]

_SECTIONS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("", config.Scenario, "Top level"),
    ("field.", config.FieldConfig, "field: the field as a whole"),
    (
        "commissioners.",
        config.CommissionerConfig,
        "commissioners: every local authority (incumbents)",
    ),
    (
        "authorities[i].",
        config.AuthorityOverride,
        "authorities: per-authority overrides (entry i applies to authority i)",
    ),
    (
        "providers.<kind>.",
        config.ProviderKindConfig,
        "providers.<kind>: sme_vso, large_charity, corporate, social_enterprise",
    ),
    ("policies.", config.PoliciesConfig, "policies: commissioning policies"),
    (
        "behaviour.",
        config.BehaviourConfig,
        "behaviour: functional forms of decisions and learning (all assumptions)",
    ),
    ("shocks[i].", config.Shock, "shocks: scheduled exogenous events"),
)


def field_comments() -> dict[str, dict[str, str]]:
    """Map class name -> field name -> the comment on (or just above) its definition line."""
    src = Path(config.__file__).read_text()
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    out: dict[str, dict[str, str]] = {}
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ClassDef):
            fields: dict[str, str] = {}
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    notes = [
                        comments[ln]
                        for ln in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)
                        if ln in comments
                    ]
                    above = stmt.lineno - 1
                    block = []
                    while above in comments and src.splitlines()[above - 1].strip().startswith("#"):
                        block.insert(0, comments[above])
                        above -= 1
                    fields[stmt.target.id] = " ".join(block + notes)
            out[node.name] = fields
    return out


def _type_name(ann: Any) -> str:
    text = str(ann).replace("typing.", "").replace("safsim.config.", "")
    if "Beta" in text and "Uniform" in text:
        text = "number or distribution"
    for enum in (config.Engagement, config.SvDefinition, config.ShockKind, config.PeerNetwork):
        if enum.__name__ in text:
            text = " \\| ".join(e.value for e in enum)
    return text.replace("<class '", "").replace("'>", "").replace("|", "\\|") if "\\|" not in text else text


def _default(model: type[BaseModel], name: str) -> str:
    f = model.model_fields[name]
    if f.is_required():
        return "required"
    value = f.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json")
        if "dist" in dumped:
            return "`" + json.dumps(dumped, separators=(", ", ": ")) + "`"
        return "(section)"
    if isinstance(value, list):
        return "`[]`"
    if hasattr(value, "value"):
        return f"`{value.value}`"
    return f"`{value}`"


def _bounds(model: type[BaseModel], name: str) -> str:
    parts = []
    for m in model.model_fields[name].metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return ", ".join(parts)


def reference_rows() -> list[tuple[str, str, str, str, str]]:
    """(key path, type, default, bounds, notes) for every scenario key."""
    comments = field_comments()
    rows = []
    for prefix, model, _title in _SECTIONS:
        for name, f in model.model_fields.items():
            if f.annotation is not None and isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel):
                continue  # a section, documented in its own table
            note = comments.get(model.__name__, {}).get(name, "")
            if model is config.AuthorityOverride and not note:
                note = "display name" if name == "name" else f"overrides `commissioners.{name}` for this authority"
            rows.append(
                (
                    prefix + name,
                    _type_name(f.annotation),
                    _default(model, name),
                    _bounds(model, name),
                    note,
                )
            )
    return rows


_CITATION = re.compile(r"\bTh §\d|\b[KS]\d{2,5}")
_NOT_A_VALUE = (
    "name",
    "description",
    "seed",
    "replicates",
    "horizon_steps",
    "authorities",
    "shocks",
    "kind",
    "at_step",
)


def source_of(path: str, note: str) -> str:
    """Where a key's default comes from: ``seeds`` when its note cites a seed passage
    (``Th §`` thesis section, K/S practitioner-page line), ``n/a`` for keys that are not model values, otherwise ``assumption``."""
    leaf = path.rsplit(".", 1)[-1]
    if leaf in _NOT_A_VALUE:
        return "n/a"
    if path.startswith("authorities[i]."):
        return "as commissioners"
    return "seeds" if _CITATION.search(note) else "assumption"


def render_reference() -> str:
    """Markdown of the scenario reference."""
    lines = [
        "# Scenario reference",
        "",
        "<!-- Generated by `python -m safsim.reference > docs/scenario-reference.md`; do not edit by hand. -->",
        "",
        "A scenario is a YAML file merged onto these defaults (nested mappings merge key by key; a",
        "distribution `{dist: ...}` and a list replace the old value whole). `extends: other.yaml`",
        "starts from another scenario; `--set path=value` overrides one key. Any *number or",
        "distribution* may be given as `{dist: beta, a, b[, low, high]}`, `{dist: uniform, low, high}`,",
        "`{dist: normal, mean, sd[, low, high]}` (clipped), `{dist: lognormal, median, sigma[, low, high]}`",
        "or `{dist: choice, values: [...][, p: [...]]}`, drawn per agent from the run's generator. When any",
        "award weight is a distribution, the three weights are renormalised per authority after drawing.",
        "",
        "The source column says whether a default rests on the seeds (its note cites `Th §<section>` =",
        "a section of the source thesis, `K`/`S` = the practitioner pages) or is an *assumption*: the seeds give",
        "almost no numbers (docs/references.md). Ranges of numbers in [0, 1] are",
        "checked for distributions too (a distribution must be bounded inside the range).",
        "",
    ]
    rows = reference_rows()
    for prefix, model, title in _SECTIONS:
        lines += [f"## {title}", ""]
        doc = (model.__doc__ or "").strip().splitlines()[0]
        lines += [doc, "", "| key | type | default | bounds | source | notes |", "|---|---|---|---|---|---|"]
        for path, typ, default, bounds, note in rows:
            if (
                path.startswith(prefix)
                and (prefix or "." not in path)
                and path[len(prefix) :].replace("_", "").isalnum()
            ):
                source = source_of(path, note)
                lines.append(f"| `{path}` | {typ} | {default} | {bounds} | {source} | {note.replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_reference(), end="")
