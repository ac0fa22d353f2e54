"""Notebook -> self-contained HTML page that opens offline (shared by render_report.py and build_docs.py)."""
from __future__ import annotations
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from ttsr.io import write_text

TEMPLATES = Path(__file__).resolve().parent/'nbconvert_templates'


def html_exporter(mathjax_url:str='') -> HTMLExporter:
    "nbconvert exporter using our `offline` template; cells tagged `remove_input`/`remove_cell` are trimmed."
    exp = HTMLExporter(template_name='offline', extra_template_basedirs=[str(TEMPLATES)], mathjax_url=mathjax_url,
                       exclude_input_prompt=True, exclude_output_prompt=True)
    tags = TagRemovePreprocessor(remove_input_tags={'remove_input', 'hide-input'},
                                 remove_cell_tags={'remove_cell', 'hide-cell'}, enabled=True)
    exp.register_preprocessor(tags, enabled=True)
    return exp


def write_html(nb:nbformat.NotebookNode, # a notebook (executed or not)
               out:str|Path, # the .html file to write
               title:str|None=None, # <title> of the page (default: the file stem)
               site_nav:str='', # HTML of a sidebar (docs site), empty for a standalone page
               mathjax_url:str='') -> Path:
    "Write `nb` as one HTML file with inline figures and no remote script; return its path."
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    resources = {'metadata': {'name': title or out.stem}, 'site_nav': site_nav}
    body, _ = html_exporter(mathjax_url).from_notebook_node(nb, resources=resources)
    write_text(out, body)
    return out


def nbdev_process(args) -> tuple[str, str|None]:
    """Worker (run in a fresh process): nbdev's doc processors on one notebook, the call `nbdev.serve.proc_nbs` makes.
    Returns (output path, error). If executing the cells `show_doc` needs fails (as `nbdev-docs` would), the notebook
    is processed again without that step, so the page still builds, and the error is returned for the report."""
    src, dst, root = args
    import os
    os.chdir(root)
    import nbdev.serve_drv
    from nbdev.processors import FilterDefaults, exec_show_docs

    class WithoutShowDocExecution(FilterDefaults):
        def base_procs(self): return [p for p in super().base_procs() if p is not exec_show_docs]

    try:
        nbdev.serve_drv.main((Path(src), Path(dst), FilterDefaults))
        return dst, None
    except Exception as e:
        nbdev.serve_drv.main((Path(src), Path(dst), WithoutShowDocExecution))
        return dst, f'{type(e).__name__}: {str(e).splitlines()[0]} ... {str(e).splitlines()[-1]}'
