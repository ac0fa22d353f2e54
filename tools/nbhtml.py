"""nbdev processing of one notebook for the docs site builder (build_docs.py). The notebook -> offline HTML page
writer is `ttsr.report.write_html`, shared with the `ttsr-report` command."""
from __future__ import annotations
from pathlib import Path


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
