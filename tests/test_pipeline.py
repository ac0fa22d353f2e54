"""The DVC pipeline and its parameters: every experiment loads, every stage lists exactly the params it reads,
the stage wiring matches params.yaml, `dvc stage list` works, and the report templates render from stage outputs."""
from __future__ import annotations
import copy, json, os, subprocess, sys
from pathlib import Path
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PARAMS = json.loads(json.dumps(yaml.safe_load((ROOT/'params.yaml').read_text())))   # YAML anchors become copies, as DVC
                                                       # sees them: a stage tracks the resolved values under its own keys
DVC = yaml.safe_load((ROOT/'dvc.yaml').read_text())
NAMES = list(PARAMS['experiments'])
TRAINED = [n for n in NAMES if PARAMS['experiments'][n].get('trains', True)]
VARS = {'training': DVC['stages']['train']['foreach'], 'evaluation': DVC['stages']['evaluate']['foreach']}
THESIS_NUMBERS = yaml.safe_load((ROOT/'nbs'/'reports'/'thesis_numbers.yaml').read_text())
THESIS = [n for n in NAMES if n != 'shipped']   # 'shipped' evaluates the shipped model (recipes.ttsr_mini), not a thesis run


def _dvc_bin() -> str:
    exe = Path(sys.executable).parent/'dvc'
    return str(exe) if exe.exists() else 'dvc'


# ------------------------------------------------------------------------------------------------- params.yaml
def test_all_thesis_experiments_declared():
    "Every experiment with published thesis numbers is declared (nbs/reports/thesis_numbers.yaml, in its order)."
    assert [n for n in NAMES if n in THESIS_NUMBERS['experiments']] == list(THESIS_NUMBERS['experiments'])


@pytest.mark.parametrize('profile', ['demo', 'paper', 'smoke'])
def test_every_experiment_loads(profile):
    from ttsr.experiment import load_experiment
    for n in NAMES:
        e = load_experiment(PARAMS, n, profile=profile)
        assert e.name == n and e.description


def test_profiles_match_the_thesis():
    from ttsr.experiment import load_experiment
    p = {n: load_experiment(PARAMS, n, profile='paper') for n in NAMES}
    e1 = p['exp1_ttsr']
    assert (e1.data.crop_size, e1.train.batch_size, e1.train.warmup_epochs, e1.train.epochs) == (256, 20, 10, 500)
    assert (e1.loss.rec_w, e1.loss.per_w, e1.loss.adv_w) == (1.0, 0.01, 0.01)
    assert (e1.train_set, e1.test_set, e1.model.lr_sr_residual, e1.model.hole_channel) == ('srraw', 'ffhq_partial', False, False)
    assert not e1.train.amp and p['exp0_rec'].data.cufed5_crop == 'fork_max320'   # fp32; the fork's CUFED5 protocol
    assert all(p[n].loss.rec_type == 'l1' for n in THESIS)            # the reference's reconstruction term
    assert [p[n].model.embedding_dim for n in ('exp1_ttsr', 'exp2_emb1152', 'exp2_emb576', 'exp2_emb288')] == [2304, 1152, 576, 288]
    assert [p[n].train.batch_size for n in ('exp2_emb1152', 'exp2_emb576', 'exp2_emb288')] == [22, 24, 28]   # Table 6.4
    assert p['exp3_soft'].model.attention == 'soft' and p['exp4_proj'].model.trainable_projections
    assert p['exp3_soft'].model.embedding_dim == p['exp4_proj'].model.embedding_dim == 576   # App. A, 6.2.3-6.2.4
    assert (p['exp5_inpaint'].test_set, p['exp5_inpaint'].init_from) == ('ffhq_nooverlap', 'exp1_ttsr')
    assert p['exp6_transfer'].init_from in ('exp0_rec', 'exp0_all')
    # Exp 0: the reference implementation's CUFED recipes
    assert (p['exp0_rec'].train_set, p['exp0_rec'].train.batch_size, p['exp0_rec'].train.epochs, p['exp0_rec'].loss.adv_w) == ('cufed', 9, 200, 0.0)
    assert (p['exp0_all'].train.warmup_epochs, p['exp0_all'].train.epochs, p['exp0_all'].loss.adv_w) == (2, 50, 0.001)
    d = load_experiment(PARAMS, 'exp1_ttsr', profile='demo')
    assert d.model.n_feats < 64 and d.data.crop_size < 256 and d.model.lr_sr_residual and d.model.hole_channel
    assert d.loss.rec_type == 'l2'


PROFILES = list(PARAMS['profiles'])


def test_switching_profile_is_one_edit(tmp_path):
    """demo -> paper -> smoke on a copy of the repository's pipeline files, editing only the `profile:` line: dvc.yaml
    stays up to date (its tables and plots do not depend on the profile) and DVC finds every parameter each stage
    lists (`dvc status` reports a listed key missing from params.yaml as deleted; `dvc repro` would fail on it)."""
    from ttsr.experiment import load_experiment
    from ttsr.pipeline import write_dvc_yaml
    text = (ROOT/'params.yaml').read_text()
    assert text.count('\nprofile: demo\n') == 1, "params.yaml must hold exactly one top-level `profile: demo` line"
    for f in ('dvc.yaml', 'dvc.lock', 'nbs/reports/thesis_numbers.yaml'):
        (tmp_path/f).parent.mkdir(parents=True, exist_ok=True); (tmp_path/f).write_bytes((ROOT/f).read_bytes())
    (tmp_path/'.dvc').mkdir(); (tmp_path/'.dvc'/'config').write_text('[core]\n    analytics = false\n    no_scm = true\n')
    assert PROFILES == ['demo', 'paper', 'smoke', 'cpu']
    for profile in PROFILES:
        (tmp_path/'params.yaml').write_text(text.replace('\nprofile: demo\n', f'\nprofile: {profile}\n'))
        assert not write_dvc_yaml(tmp_path/'params.yaml', tmp_path/'dvc.yaml', check=True), f'{profile}: dvc.yaml is stale'
        params = yaml.safe_load((tmp_path/'params.yaml').read_text())
        assert all(load_experiment(params, n).name == n for n in NAMES)
        out = subprocess.run([_dvc_bin(), 'status', '--json'], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                             env={**os.environ, 'DVC_NO_ANALYTICS': '1'})
        assert out.returncode == 0, out.stderr
        status = json.loads(out.stdout)
        assert {s.split('@')[0] for s in status} >= {'prepare', 'train', 'evaluate', 'report', 'summary'}, status
        missing = [(stage, key) for stage, changes in status.items() for c in changes if isinstance(c, dict)
                   for kind in c.values() if isinstance(kind, dict) for f, keys in kind.items() if isinstance(keys, dict)
                   for key, state in keys.items() if state == 'deleted']
        assert not missing, f'{profile}: stages list params that params.yaml lacks: {missing}'
    assert load_experiment(yaml.safe_load((tmp_path/'params.yaml').read_text()), 'exp1_ttsr').data.crop_size == 96   # the last one, cpu: the shipped model's photo crops
    paper = yaml.safe_load(text.replace('\nprofile: demo\n', '\nprofile: paper\n'))
    assert load_experiment(paper, 'exp1_ttsr').data.crop_size == 256


def test_profiles_restate_no_experiment():
    "An experiment's per-profile overrides live in its own entry; a profile holds only profile-wide settings."
    assert all(set(p) <= {'inherits', 'data', 'defaults'} for p in PARAMS['profiles'].values())
    assert all(set(PARAMS['experiments'][n]['profiles']) <= set(PROFILES) for n in NAMES)


# ------------------------------------------------------------------------------------------------- dvc.yaml wiring
def test_dvc_yaml_tables_are_derived_from_params():
    "dvc.yaml's foreach tables and summary deps are what `ttsr-pipeline` writes from params.yaml."
    from ttsr.pipeline import write_dvc_yaml
    assert not write_dvc_yaml(ROOT/'params.yaml', ROOT/'dvc.yaml', check=True), 'dvc.yaml is stale: run ttsr-pipeline'
    fig_runs = {r for f in THESIS_NUMBERS['figures'].values() for r in f['runs']}
    assert {Path(p).parts[1] for plot in DVC['plots'] for spec in plot.values() for p in spec['y']} == fig_runs
    assert 'vars' not in DVC and DVC['stages']['report']['foreach'] == VARS['evaluation']


def test_wiring_matches_params():
    from ttsr.experiment import load_experiment
    assert list(VARS['evaluation']) == NAMES, 'every experiment is evaluated and reported'
    assert list(VARS['training']) == TRAINED
    for n in NAMES:
        e = load_experiment(PARAMS, n)
        run = VARS['evaluation'][n]['run']
        if n in VARS['training']:
            assert run == n, f'{n} trains, so it evaluates its own run'
            init = VARS['training'][n]['init']
            if e.init_from in NAMES: assert init == f'runs/{e.init_from}/checkpoints/final.pt', n
            elif e.init_from: assert init == e.init_from and Path(ROOT/init).suffix == '.pt', n      # a weights file
            else: assert init == 'ttsr/archs' or any(load_experiment(PARAMS, n, profile=p).init_from for p in PROFILES), n   # another profile's weights
        else:
            assert not e.trains and e.init_from and run == e.init_from, f'{n} has no training: it must evaluate its init_from run'
    assert not load_experiment(PARAMS, 'exp5_inpaint').trains and 'exp5_inpaint' not in VARS['training']


def _flatten(d, prefix=''):
    "Leaf paths of a nested dict; empty dicts count as leaves."
    if isinstance(d, dict) and d:
        for k, v in d.items(): yield from _flatten(v, f'{prefix}.{k}' if prefix else k)
    else: yield prefix, d


def _perturbed(value):
    "A different value of the same type (None -> a string)."
    if isinstance(value, bool): return not value
    if isinstance(value, int): return value + 4
    if isinstance(value, float): return value * 0.5 + 0.125
    if isinstance(value, str): return value + '_x'
    if isinstance(value, list): return [_perturbed(v) for v in value] if value else [1]
    if value is None: return 'data/other'
    return value


STRINGS = sorted({v for _, v in _flatten(PARAMS) if isinstance(v, str)})


def _set(d, path, value):
    keys = path.split('.')
    for k in keys[:-1]: d = d[k]
    d[keys[-1]] = value


# What each stage's code reads from the merged experiment (ttsr.train / ttsr.evaluate / the report template).
VIEWS = {'train': ('train_set', 'init_from', 'model', 'data', 'loss', 'train'),
         'evaluate': ('description', 'test_set', 'init_from', 'data', 'evaluate')}


def _view(params, name, fields):
    from ttsr.config import to_dict
    from ttsr.experiment import load_experiment
    try: e = load_experiment(params, name)
    except Exception as ex: return ('error', type(ex).__name__)
    d = to_dict(e)
    return {f: d[f] for f in fields}


def _listed(stage:str, name:str, profile:str=PARAMS['profile']) -> list[str]:
    return [p.replace('${key}', name).replace('${profile}', profile) for p in DVC['stages'][stage]['do']['params']]


@pytest.mark.parametrize('stage', ['train', 'evaluate'])
def test_stage_params_cover_what_the_stage_reads(stage):
    "Changing any params.yaml value a stage does not list must leave what that stage reads unchanged."
    names = list(VARS['training'] if stage == 'train' else VARS['evaluation'])
    leaves = list(_flatten(PARAMS))
    for n in names:
        listed = _listed(stage, n)
        base = _view(PARAMS, n, VIEWS[stage])
        for path, value in leaves:
            if any(path == p or path.startswith(p + '.') for p in listed): continue
            if isinstance(value, dict): continue
            # a changed value that still loads (a Literal field needs one of its allowed values)
            for candidate in [_perturbed(value)] + [s for s in STRINGS if s != value and isinstance(value, (str, type(None)))]:
                p2 = copy.deepcopy(PARAMS)
                _set(p2, path, candidate)
                view = _view(p2, n, VIEWS[stage])
                if not (isinstance(view, tuple) and view[0] == 'error'): break
            else: continue                          # no valid change found: nothing to compare
            assert view == base, f'{stage}@{n} reads {path} but does not list it in dvc.yaml'


@pytest.mark.parametrize('stage', ['train', 'evaluate', 'report'])
@pytest.mark.parametrize('profile', ['demo', 'paper', 'smoke'])
def test_stage_params_exist_and_stay_within_the_stage(stage, profile):
    "In every profile every listed key exists (DVC fails on missing ones) and none names a section the stage does not read."
    names = list(VARS['training'] if stage == 'train' else VARS['evaluation'])
    unread = {'train': ('evaluate', 'test_set', 'description'), 'evaluate': ('.loss', '.train', 'train_set'), 'report': ()}[stage]
    for n in names:
        for p in _listed(stage, n, profile):
            d = PARAMS
            for k in p.split('.'):
                assert isinstance(d, dict) and k in d, f'{stage}@{n}: params key {p} missing from params.yaml'
                d = d[k]
            assert not any(p.endswith(u) for u in unread), f'{stage}@{n} lists {p}, which it does not read'


def test_editing_one_experiment_touches_only_its_chain():
    "The params one experiment's entry holds are listed by that experiment's stages only."
    for stage in ('train', 'evaluate', 'report'):
        group = VARS['training'] if stage == 'train' else VARS['evaluation']
        for n in group:
            for p in _listed(stage, n):
                others = [m for m in NAMES if m != n and (f'experiments.{m}' == p or p.startswith(f'experiments.{m}.'))]
                assert not others, f'{stage}@{n} lists {p} of another experiment'


def test_metrics_and_plots_are_small_and_in_git():
    for stage in ('train', 'evaluate'):
        for m in DVC['stages'][stage]['do']['metrics']:
            (path, opts), = m.items()
            assert opts.get('cache') is False, path
    (plots,), = [[p for p in DVC['stages']['train']['do']['plots']]]
    (path, opts), = plots.items()
    assert opts.get('cache') is False and 'live/plots' in path
    summary_deps = set(DVC['stages']['summary']['deps'])
    assert {f'results/{n}/metrics.json' for n in NAMES} <= summary_deps


def test_dvc_stage_list():
    out = subprocess.run([_dvc_bin(), 'stage', 'list'], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, 'DVC_NO_ANALYTICS': '1'})
    assert out.returncode == 0, out.stderr
    stages = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    expected = {'prepare', 'summary', 'figure'} | {f'train@{n}' for n in TRAINED} \
               | {f'{s}@{n}' for s in ('evaluate', 'report') for n in NAMES}
    assert stages == expected, stages ^ expected


def test_dvc_analytics_off():
    assert 'analytics = false' in (ROOT/'.dvc'/'config').read_text()


# ------------------------------------------------------------------------------------------------- report templates
def test_templates_have_parameters_cells():
    import nbformat
    for name in ('experiment', 'summary'):
        nb = nbformat.read(ROOT/'nbs'/'reports'/f'{name}.ipynb', as_version=4)
        tagged = [c for c in nb.cells if 'parameters' in c.metadata.get('tags', [])]
        assert len(tagged) == 1, name
        assert nb.metadata.get('kernelspec', {}).get('language') == 'python'


def test_thesis_numbers_table():
    t = yaml.safe_load((ROOT/'nbs'/'reports'/'thesis_numbers.yaml').read_text())
    assert t['table_6_2']['rows']['exp1_ttsr'] == {'label': 'Experiment 1: TTSR', 'psnr': 34.89, 'ssim': 0.9014, 'fid': 47.64}
    assert t['table_6_2']['rows']['no_sr']['psnr'] == 31.33
    assert set(t['table_6_4']['rows']) == {'exp1_ttsr', 'exp2_emb1152', 'exp2_emb576', 'exp2_emb288'}
    assert t['table_6_5']['rows']['palette']['hr_psnr'] == 28.96
    assert set(t['experiments']) <= set(NAMES)


@pytest.fixture(scope='module')
def rendered(report_tree):
    "The experiment (exp5 and exp1) and summary reports rendered from a synthetic stage-output tree."
    from ttsr.render import render
    root = report_tree
    out = root/'results'/'reports'
    paths = {n: render('experiment', n, root=root, out_dir=out) for n in ('exp1_ttsr', 'exp5_inpaint')}
    paths['summary'] = render('summary', root=root, out_dir=out)
    return root, paths


def test_reports_render(rendered):
    root, paths = rendered
    for name, (nb, html) in paths.items():
        assert nb.exists() and html.exists(), name
        page = html.read_text()
        assert 'data:image/png;base64,' in page, f'{name}: no inline figure'
        assert 'https://' not in ''.join(l for l in page.splitlines() if '<script' in l), f'{name}: remote script'
    exp1 = paths['exp1_ttsr'][1].read_text()
    for heading in ('Goal', 'Data', 'Configuration', 'Training curves', 'Metrics', 'Samples', 'Attention maps', 'Notes'):
        assert f'>{heading}' in exp1, heading
    assert 'thesis (published' in exp1 and '34.89' in exp1
    assert 'Our conditions and the thesis' in exp1 and 'Numeric precision' in exp1 and 'Test protocol: FFHQ' in exp1
    exp5 = paths['exp5_inpaint'][1].read_text()
    assert 'No training of its own' in exp5 and 'exp1_ttsr' in exp5
    summary = paths['summary'][1].read_text()
    for t in ('Table 6.1', 'Table 6.2', 'Table 6.4', 'Table 6.5', 'Figure 6.1', 'Figure 6.4', 'No super-resolution',
              'Differences from the thesis', 'Reduction conv and Q/K projections', 'Test protocol of exp0_rec'):
        assert t in summary, t
    s = json.loads((root/'results'/'summary.json').read_text())
    # the fixture's model beats No-SR by exactly 1 dB + 0.1 dB per experiment index on the full image
    assert s['experiments']['exp1_ttsr']['psnr_gain_db'] == pytest.approx(26 + 0.1 * 2 - 25)
    assert s['experiments']['exp5_inpaint']['region'] == 'masked_vs_hr'


# ------------------------------------------------------------------------------------- recorded demo results
def test_recorded_demo_results_beat_no_sr():
    """The committed `results/summary.json` is the pipeline's own output (its md5 is the one dvc.lock recorded) and
    every evaluated demo experiment in it beats "No super-resolution" (issue 5's check on the recorded run)."""
    import hashlib
    path = ROOT/'results'/'summary.json'
    lock = yaml.safe_load((ROOT/'dvc.lock').read_text())
    outs = {o['path']: o['md5'] for o in lock['stages']['summary']['outs']}
    assert hashlib.md5(path.read_bytes()).hexdigest() == outs['results/summary.json'], \
        "results/summary.json differs from what `dvc repro` recorded in dvc.lock"
    summary = json.loads(path.read_text())
    assert summary['profile'] == 'demo' and set(summary['experiments']) == set(NAMES)
    losing = {n: r['psnr_gain_db'] for n, r in summary['experiments'].items() if not r['psnr_gain_db'] > 0}
    assert not losing, f"demo experiments that do not beat No-SR (PSNR gain, dB): {losing}"
