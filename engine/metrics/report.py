"""Reports of evaluations: a Markdown table (copy-as-Markdown) and a self-contained HTML file with the numbers, the
charts (PNG bytes rendered by the GUI), sample grids and the mode-collapse clusters, all embedded as data URIs."""
from __future__ import annotations

import base64
import html
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import __version__
from ..outputs import write_output_text

# (result key, column title, format)
COLUMNS: List[Tuple[str, str, str]] = [
    ("fid", "FID ↓", "{:.2f}"), ("kid", "KID ↓", "{:.4f}"), ("kid_std", "KID std", "{:.4f}"),
    ("kid_subsets", "KID subsets", "{}"),
    ("is", "IS ↑", "{:.2f}"), ("is_std", "IS std", "{:.2f}"), ("precision", "Precision ↑", "{:.3f}"),
    ("recall", "Recall ↑", "{:.3f}"), ("diversity_fake", "Diversity ↑", "{:.2f}"),
    ("diversity_ratio", "Diversity / real", "{:.2f}"), ("classifier_class_entropy", "Class entropy ↑", "{:.3f}"),
    ("classifier_score", "Classifier score ↑", "{:.3f}"), ("collapsed_share", "Near-duplicates ↓", "{:.0%}"),
    ("modes_covered", "Real modes covered ↑", "{:.0%}"), ("n_real", "N real", "{}"), ("n_fake", "N generated", "{}"),
]
METRIC_OF = {"fid": "fid", "kid": "kid", "kid_std": "kid", "kid_subsets": "kid", "is": "is", "is_std": "is", "precision": "pr",
             "recall": "pr", "diversity_fake": "diversity", "diversity_ratio": "diversity",
             "classifier_class_entropy": "diversity", "classifier_score": "diversity",
             "collapsed_share": "mode_collapse", "modes_covered": "mode_collapse"}


# One line per column: what the number means, for people who do not read GAN papers.
MEANING: Dict[str, str] = {
    "fid": "FID: distance between the real and generated sets in Inception features; 0 = same statistics. Biased "
           "upwards at small N: compare FIDs only at equal N.",
    "kid": "KID: like FID but unbiased at small N; 0 = indistinguishable sets, differences below the std are noise.",
    "kid_std": "KID std: spread of KID over random subsets; a rough error bar for the KID beside it.",
    "kid_subsets": "KID subsets: how many random subsets (of how many images) the KID mean and std come from.",
    "is": "Inception Score: how confidently and variedly ImageNet classes are recognised; only meaningful for "
          "ImageNet-like pictures.",
    "is_std": "IS std: spread of the Inception Score over splits.",
    "precision": "Precision: share of generated images that fall among the real ones (realism); two very different "
                 "domains (photos vs anime) give low values by design.",
    "recall": "Recall: share of real images near some generated one (coverage of the real variety).",
    "diversity_fake": "Diversity: average feature distance between generated images; higher = more varied.",
    "diversity_ratio": "Diversity / real: generated diversity relative to the real set's; about 1 is healthy, far "
                       "below 1 suggests mode collapse.",
    "classifier_class_entropy": "Class entropy: how evenly your classifier spreads the generated images over its "
                                "classes.",
    "classifier_score": "Classifier score: how confidently your classifier recognises the generated images.",
    "collapsed_share": "Near-duplicates: share of generated images that are almost copies of each other.",
    "modes_covered": "Real modes covered: share of the real data's clusters that some generated image reaches.",
    "n_real": "N real / N generated: how many images each number rests on; small N means large uncertainty.",
}


def meanings(results: Sequence[Dict[str, Any]]) -> List[str]:
    """The "what this means" line of every metric column the results show."""
    keys = [k for k, _, _ in columns_for(results)]
    return list(dict.fromkeys(MEANING[k] for k in keys if k in MEANING))


def cell(result: Dict[str, Any], key: str, fmt: str) -> str:
    v = result.get(key)
    if key == "kid_std" and v is not None and result.get("kid_subsets") == 1:
        return "not measured"
    if key == "kid_subsets" and v is not None:
        return f"{v} × {result.get('kid_subset_size', '?')}"
    if v is None:
        metric = METRIC_OF.get(key)
        return "n/a" if metric and metric in result.get("messages", {}) else ""
    try:
        return fmt.format(v)
    except (ValueError, TypeError):
        return str(v)


PRIMARY = ("fid", "kid", "is", "precision", "recall", "diversity_fake", "collapsed_share")


def columns_for(results: Sequence[Dict[str, Any]]) -> List[Tuple[str, str, str]]:
    """The columns any of the results has a value for, and the main column of each metric asked for (which shows
    "n/a" with the reason where it could not be computed)."""
    asked = {m for r in results for m in r.get("metrics", [])}
    return [c for c in COLUMNS if any(r.get(c[0]) is not None for r in results)
            or (c[0] in PRIMARY and METRIC_OF.get(c[0]) in asked)]


def provenance(results: Sequence[Dict[str, Any]]) -> str:
    if not results:
        return ""
    r = results[0]
    return f"Features: {r.get('extractor', '')}; resize: {r.get('resize', '')}; normalisation: " \
           f"{r.get('normalisation', '')}."


def notes(results: Sequence[Dict[str, Any]]) -> List[str]:
    out: List[str] = []
    for r in results:
        who = r.get("label", "")
        for m, text in r.get("messages", {}).items():
            out.append(f"{who}: {text}")
        for key in ("fid_note", "kid_note"):
            if r.get(key):
                out.append(f"{who}: {r[key]}")
        if r.get("classifier"):
            out.append(f"{who}: classifier scores by {r['classifier']}")
        if r.get("mode_collapse_summary"):
            out.append(f"{who}: mode collapse: {r['mode_collapse_summary']}")
        if r.get("skipped"):
            out.append(f"{who}: skipped {len(r['skipped'])} unreadable file(s), e.g. {r['skipped'][0]['path']} "
                       f"({r['skipped'][0]['reason']})")
    return list(dict.fromkeys(out))


def to_markdown(results: Sequence[Dict[str, Any]], hype: Sequence[str] = ()) -> str:
    cols = columns_for(results)
    head = "| Compared | " + " | ".join(t for _, t, _ in cols) + " |"
    sep = "|---|" + "|".join("---:" for _ in cols) + "|"
    rows = [f"| {r.get('label', '')} | " + " | ".join(cell(r, k, f) for k, _, f in cols) + " |" for r in results]
    parts = [head, sep, *rows, "", provenance(results)]
    parts += [f"- {n}" for n in notes(results)]
    parts += [f"- {h}" for h in hype]
    return "\n".join(parts).strip() + "\n"


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def encode_png(rgb: np.ndarray) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    return buf.tobytes() if ok else b""


def grid(thumbs: Sequence[np.ndarray], cols: int = 8, cell_px: int = 96, pad: int = 2) -> Optional[np.ndarray]:
    """A mosaic of thumbnails (uint8 RGB), each fitted into ``cell_px`` squares on white."""
    import cv2

    thumbs = [t for t in thumbs if t is not None]
    if not thumbs:
        return None
    cols = min(cols, len(thumbs))
    rows = (len(thumbs) + cols - 1) // cols
    out = np.full((rows * (cell_px + pad) + pad, cols * (cell_px + pad) + pad, 3), 255, np.uint8)
    for i, t in enumerate(thumbs):
        h, w = t.shape[:2]
        s = cell_px / max(h, w)
        t = cv2.resize(t, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        y0 = pad + (i // cols) * (cell_px + pad) + (cell_px - t.shape[0]) // 2
        x0 = pad + (i % cols) * (cell_px + pad) + (cell_px - t.shape[1]) // 2
        out[y0:y0 + t.shape[0], x0:x0 + t.shape[1]] = t
    return out


def _img(rgb: Optional[np.ndarray], alt: str) -> str:
    if rgb is None:
        return ""
    return f'<img alt="{html.escape(alt)}" src="{png_data_uri(encode_png(rgb))}">'


def _table_html(results: Sequence[Dict[str, Any]]) -> str:
    cols = columns_for(results)
    head = "<tr><th>Compared</th>" + "".join(f"<th>{html.escape(t)}</th>" for _, t, _ in cols) + "</tr>"
    body = "".join("<tr><td>" + html.escape(str(r.get("label", ""))) + "</td>"
                   + "".join(f"<td>{html.escape(cell(r, k, f))}</td>" for k, _, f in cols) + "</tr>"
                   for r in results)
    return f"<table>{head}{body}</table>"


def _eval_section(ev: Any) -> str:
    r = ev.metrics
    parts = [f"<h2>{html.escape(str(r.get('label', '')))}</h2>",
             f"<p class=src>Real: {html.escape(str(r.get('real_source', '')))} (N = {r.get('n_real')}) &middot; "
             f"Generated: {html.escape(str(r.get('fake_source', '')))} (N = {r.get('n_fake')})</p>",
             '<div class="grids">']
    for key, title in (("real", "Real samples"), ("fake", "Generated samples")):
        g = grid(ev.samples.get(key, []))
        if g is not None:
            parts.append(f"<figure>{_img(g, title)}<figcaption>{title}</figcaption></figure>")
    parts.append("</div>")
    if r.get("mode_collapse_summary"):
        parts.append(f"<h3>Mode collapse</h3><p>{html.escape(r['mode_collapse_summary'])}</p>")
        for i, ex in enumerate(ev.cluster_examples):
            size = len(ev.report.clusters[i].members) if ev.report else len(ex)
            parts.append(f"<figure>{_img(grid(ex, cols=6, cell_px=80), 'cluster')}"
                         f"<figcaption>Near-duplicate cluster {i + 1}: {size} images</figcaption></figure>")
        for i, ex in enumerate(ev.missed_examples[:6]):
            parts.append(f"<figure>{_img(grid(ex, cols=6, cell_px=80), 'missed')}"
                         f"<figcaption>Real cluster no generated image reached ({i + 1})</figcaption></figure>")
    return "\n".join(parts)


CSS = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figcaption{font-size:90%;color:#555}
.src{color:#555;font-size:90%}.notes li{margin:2px 0}"""


def to_html(evaluations: Sequence[Any], charts: Optional[Dict[str, bytes]] = None, hype: Sequence[str] = (),
            title: str = "GAN Studio evaluation") -> str:
    results = [ev.metrics for ev in evaluations]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p class=src>{time.strftime('%Y-%m-%d %H:%M')} &middot; GAN Studio {__version__}</p>",
             _table_html(results) if results else "", f"<p class=src>{html.escape(provenance(results))}</p>",
             "<ul class=notes>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes(results))
             + "".join(f"<li>{html.escape(h)}</li>" for h in hype) + "</ul>"]
    for name, png in (charts or {}).items():
        parts.append(f"<h2>{html.escape(name)}</h2><img alt='{html.escape(name)}' src='{png_data_uri(png)}'>")
    parts += [_eval_section(ev) for ev in evaluations]
    parts.append("</body></html>")
    return "\n".join(parts)


def save_html(path, evaluations: Sequence[Any], charts: Optional[Dict[str, bytes]] = None,
              hype: Sequence[str] = (), *, inputs: Sequence[Any] = (), overwrite: bool = False) -> None:
    """Write the report by the output policy (never over an input, never replacing without ``overwrite``)."""
    write_output_text(path, to_html(evaluations, charts, hype), inputs=inputs, overwrite=overwrite,
                      what="report file")
