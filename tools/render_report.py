"""Render a result report: run a papermill template from nbs/reports/, save the executed notebook and its HTML.

    python tools/render_report.py experiment exp1_ttsr   # -> results/reports/exp1_ttsr.{ipynb,html}
    python tools/render_report.py summary                # -> results/reports/summary.{ipynb,html}

The templates only read what the pipeline stages wrote (runs/<name>/live, runs/<name>/train_meta.json,
results/<name>/...); they never train or evaluate. This is the `report@EXP` and `summary` command of dvc.yaml.
"""
from __future__ import annotations
import argparse, os, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbhtml import write_html  # noqa: E402

TEMPLATES = {'experiment': ROOT/'nbs'/'reports'/'experiment.ipynb', 'summary': ROOT/'nbs'/'reports'/'summary.ipynb'}


def render(kind:str, # 'experiment' or 'summary'
           name:str|None=None, # experiment name (kind 'experiment')
           root:str|Path=ROOT, # repository root holding params.yaml, runs/, results/
           out_dir:str|Path|None=None, # default: <root>/results/reports
           kernel:str='python3', timeout:int=600) -> tuple[Path, Path]:
    "Execute the template with papermill and write `<out_dir>/<name>.ipynb` and `.html`; return both paths."
    import papermill as pm, nbformat
    if kind not in TEMPLATES: raise ValueError(f"report kind must be one of {sorted(TEMPLATES)}, got {kind!r}")
    if kind == 'experiment' and not name: raise ValueError("an experiment report needs the experiment name")
    root = Path(root).resolve()
    out_dir = Path(out_dir) if out_dir else root/'results'/'reports'
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name if kind == 'experiment' else 'summary'
    params = {'root': str(root)}
    if kind == 'experiment': params['name'] = name
    nb_out = out_dir/f'{stem}.ipynb'
    tmp = out_dir/f'.{stem}.tmp.ipynb'
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    pm.execute_notebook(str(TEMPLATES[kind]), str(tmp), parameters=params, kernel_name=kernel, language='python', cwd=str(root),
                        progress_bar=False, execution_timeout=timeout)
    tmp.replace(nb_out)
    nb = nbformat.read(nb_out, as_version=4)
    # the page shows the values papermill injected, not the template's defaults or its front matter
    nb.cells = [c for c in nb.cells if c.cell_type != 'raw' and 'parameters' not in c.metadata.get('tags', [])]
    title = f'{stem} report' if kind == 'experiment' else 'Summary of the experiments'
    html = write_html(nb, out_dir/f'{stem}.html', title=title)
    return nb_out, html


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('kind', choices=sorted(TEMPLATES))
    ap.add_argument('name', nargs='?', help='experiment name (params.yaml `experiments` key)')
    ap.add_argument('--root', default=str(ROOT), help='repository root (default: this checkout)')
    ap.add_argument('--out-dir', default=None, help='default: <root>/results/reports')
    a = ap.parse_args(argv)
    for p in render(a.kind, a.name, a.root, a.out_dir): print(p)


if __name__ == '__main__':
    main()
