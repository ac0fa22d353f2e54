"""The console scripts as `pip install .` delivers them: each answers `--help` using only the package's own dependencies
(no dev extra), loads only what its command needs (one module per command, ttsr.commands), and the shipped model
ttsr-infer uses by default is package data. A fresh non-editable install is checked by hand (see the issue 18 notes);
these tests check the declarations that make it work."""
from __future__ import annotations
import hashlib, json, subprocess, sys, tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT/'pyproject.toml').read_text())
SCRIPTS = PYPROJECT['project']['scripts']
BIN = Path(sys.executable).parent
DEV_TOOLS = {'nbdev', 'jupyterlab', 'jupytext', 'pytest', 'pytest-xdist'}


def test_every_script_answers_help():
    "All console scripts at once (in parallel): exit 0 and a usage line."
    procs = {name: subprocess.Popen([str(BIN/name), '--help'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd='/')
             for name in SCRIPTS}
    for name, p in procs.items():
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and out.startswith(f'usage: {name}'), (name, err[-2000:])


def _loaded(module:str) -> set[str]:
    "Top-level ttsr modules and third-party packages importing `module` loads, in a fresh interpreter."
    code = f"import sys, {module}; print(__import__('json').dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, cwd='/').stdout
    return set(json.loads(out))


def test_each_command_loads_only_what_it_needs():
    "A command's module imports its dependencies at the top, so `--help` costs what the command itself needs, no more."
    trainer, renderer, inference = {'ttsr.train', 'dvclive'}, {'ttsr.render', 'papermill', 'nbconvert'}, {'ttsr.infer', 'ttsr.complete'}
    expect_absent = {'ttsr.commands.infer': trainer | renderer | {'ttsr.pipeline', 'ruamel'},
                     'ttsr.commands.complete': trainer | renderer | {'ttsr.pipeline'},
                     'ttsr.commands.pipeline': trainer | inference | {'papermill', 'nbconvert'},
                     'ttsr.commands.report': trainer | inference | {'ttsr.pipeline'},   # it renders: papermill and nbconvert belong
                     'ttsr.commands.train': renderer | inference | {'ttsr.pipeline'},
                     'ttsr.cli': {'torch', 'ttsr.experiment'} | trainer | renderer | inference}
    for module, absent in expect_absent.items():
        loaded = _loaded(module)
        assert not absent & loaded, f'{module} loads {sorted(absent & loaded)}'


def test_scripts_need_no_dev_extra():
    "What the commands import at the top is a dependency of the package; the `dev` extra holds development tools only."
    deps = {d.split('=')[0].split('>')[0].split('<')[0].split('[')[0].strip().lower() for d in PYPROJECT['project']['dependencies']}
    assert {'dvc', 'dvclive', 'ruamel.yaml', 'papermill', 'nbconvert', 'nbformat', 'ipykernel'} <= deps
    assert set(PYPROJECT['project']['optional-dependencies']['dev']) <= DEV_TOOLS
    assert all(v.startswith(('ttsr.commands.', 'ttsr.docs:', 'ttsr.gpu_check:')) for v in SCRIPTS.values())


def test_shipped_model_is_package_data():
    "ttsr/models/ttsr-mini.pt (package data, copied into wheels) is the one file models/ttsr-mini.pt, not a copy."
    packaged, shipped = ROOT/'ttsr'/'models'/'ttsr-mini.pt', ROOT/'models'/'ttsr-mini.pt'
    assert packaged.is_symlink() and packaged.resolve() == shipped.resolve()
    assert 'models/*.pt' in PYPROJECT['tool']['setuptools']['package-data']['ttsr']
    assert hashlib.md5(packaged.read_bytes()).hexdigest() == hashlib.md5(shipped.read_bytes()).hexdigest()
