"""Every notebook in nbs/ is a test: nbdev executes it top to bottom, skipping cells flagged slow/gpu/notest.

Run the slow cells too with `TTSR_NB_FLAGS="slow" pytest tests/test_notebooks.py`.
"""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / 'nbs').glob('*.ipynb'))   # top level only: nbs/reports/ are papermill templates


def _nbdev_test() -> str:
    exe = Path(sys.executable).parent / 'nbdev-test'
    if not exe.exists(): pytest.fail(f"{exe} not found: install the dev requirements (bash tools/setup.sh)")
    return str(exe)


@pytest.mark.parametrize('notebook', NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook(notebook: Path):
    flags = os.environ.get('TTSR_NB_FLAGS', '')
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'), 'MPLBACKEND': 'Agg'}
    cmd = [_nbdev_test(), str(notebook.relative_to(ROOT))] + (['--flags', flags] if flags else [])
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=1800)
    assert res.returncode == 0, f"{notebook.name} failed:\n{res.stdout[-6000:]}\n{res.stderr[-6000:]}"


def test_found_notebooks():
    assert len(NOTEBOOKS) >= 2, f"no notebooks found under {ROOT/'nbs'}"
