"""Issue 4's check, run for real (slow: about two CPU minutes): the demo profile's Exp 1, trained on demo data that
the test builds itself, lowers its training loss and beats "No super-resolution" on the held-out demo test pairs.

`pytest -m slow tests/test_demo_training.py`; the default run skips it (the recorded pipeline run is checked by
`tests/test_pipeline.py::test_recorded_demo_results_beat_no_sr`)."""
import copy, csv
from pathlib import Path
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_exp1_training_beats_no_sr(tmp_path):
    from ttsr.cli import prepare
    from ttsr.data.datasets import make_dataset
    from ttsr.evaluate import evaluate_model
    from ttsr.experiment import load_experiment
    from ttsr.checkpoint import load_model
    from ttsr.train import train
    torch.set_num_threads(2)
    params = copy.deepcopy(yaml.safe_load((ROOT/'params.yaml').read_text()))
    assert params['profile'] == 'demo'
    data = params['profiles']['demo']['data']
    for k in [k for k in data if k.endswith('_root')]: data[k] = str(tmp_path/data[k])     # own data, in tmp
    params['experiments'] = {'exp1_ttsr': params['experiments']['exp1_ttsr']}
    prepare(params)
    exp = load_experiment(params, 'exp1_ttsr')
    run = train(exp, tmp_path/'run', resume=False, progress=False)
    assert run['finished']
    rows = list(csv.DictReader(open(tmp_path/'run'/'live'/'plots'/'metrics'/'train'/'rec.tsv'), delimiter='\t'))
    rec = [float(r['rec']) for r in rows][:exp.train.warmup_epochs]           # warm-up epochs: same loss terms
    print('reconstruction loss per warm-up epoch:', [round(r, 5) for r in rec])
    assert rec[-1] < rec[0]
    test = make_dataset(exp.data, exp.test_set, 'test')
    res = evaluate_model(load_model(run['final_checkpoint']), test, baselines=('no_sr',), protocols=('ttsr',),
                         device='cpu', timing_samples=1, max_samples=exp.evaluate.max_samples)
    psnr = {m: res['methods'][m]['metrics']['full']['ttsr']['psnr'] for m in ('model', 'no_sr')}
    print(f"demo {exp.test_set} test, {res['n_images']} images: model {psnr['model']:.3f} dB, No-SR {psnr['no_sr']:.3f} dB")
    assert psnr['model'] > psnr['no_sr']
