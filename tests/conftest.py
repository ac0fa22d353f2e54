"""Shared fixtures. `report_tree`: a small synthetic `runs/` + `results/` tree in the layout the pipeline stages write,
with this checkout's params.yaml and report templates, so the reports and the docs site render without training.
The numbers are made up and say so (`"synthetic": true` in every file)."""
from __future__ import annotations
import json, shutil
from pathlib import Path
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _png(path:Path, seed:int):
    "A small image with a visible pattern, written with matplotlib (no GUI)."
    import numpy as np
    from matplotlib.figure import Figure
    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.imshow(np.random.default_rng(seed).random((12, 18)), cmap='viridis'); ax.set_title('synthetic'); ax.axis('off')
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=60)


def make_report_tree(root:Path) -> Path:
    """Copy params.yaml and nbs/reports/ of this checkout into `root` and write synthetic stage outputs for every
    experiment: the model scores 26 + 0.1 * (its index) dB on the full image, No super-resolution 25 dB."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT/'params.yaml', root/'params.yaml')
    shutil.copytree(ROOT/'nbs'/'reports', root/'nbs'/'reports')
    experiments = yaml.safe_load((ROOT/'params.yaml').read_text())['experiments']
    entry = lambda p, s: {'ttsr': {'psnr': p, 'ssim': s, 'n': 4}, 'rgb': {'psnr': p - 0.5, 'ssim': s - 0.01, 'n': 4}}
    for i, (n, e) in enumerate(experiments.items()):
        res = root/'results'/n
        metrics = {
            'synthetic': True, 'experiment': n, 'n_images': 4, 'n_masked': 2, 'n_partial_overlap': 4,
            'protocols': {'ttsr': 'Y channel', 'rgb': 'RGB'}, 'regions': {'full': 'all pixels'},
            'methods': {
                'model': {'title': n, 'metrics': {'full': entry(26 + 0.1 * i, 0.80), 'masked_vs_hr': entry(21, 0.6),
                                                   'masked_vs_lr': entry(23, 0.7)},
                          'time_per_image_s': {'median': 0.02, 'n_images': 2, 'device': 'cpu', 'device_name': 'cpu',
                                               'warmup_passes_excluded': 1, 'batch_size': 1}},
                'no_sr': {'title': 'No super-resolution', 'metrics': {'full': entry(25, 0.75), 'masked_vs_hr': entry(12, 0.3),
                                                                      'masked_vs_lr': entry(13, 0.4)}}},
            'unavailable': {'palette': 'synthetic fixture'}, 'fid': {'available': False, 'reason': 'synthetic fixture'}}
        res.mkdir(parents=True, exist_ok=True)
        (res/'metrics.json').write_text(json.dumps(metrics, indent=1))
        _png(res/'samples'/'overview.png', i); _png(res/'attention'/'sample0.png', 100 + i)
        if not e.get('trains', True): continue                                  # evaluates another run's weights
        live = root/'runs'/n/'live'
        for key in ('train/cum_rec', 'train/cum_adv', 'train_step/rec', 'val/psnr', 'val/ssim'):
            f = live/'plots'/'metrics'/f'{key}.tsv'
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(f"timestamp\tstep\t{key.split('/')[-1]}\n" + ''.join(f'0\t{s}\t{20 + s + 0.1 * i}\n' for s in range(3)))
        (live/'metrics.json').write_text(json.dumps({'synthetic': True}))
        (root/'runs'/n/'train_meta.json').write_text(json.dumps(
            {'synthetic': True, 'device': 'cpu', 'vgg_weights_loaded': False, 'batch_size': 4, 'train_time_s': 60.0}))
    return root


@pytest.fixture(scope='module')
def report_tree(tmp_path_factory) -> Path:
    "A fresh synthetic stage-output tree (see `make_report_tree`) for the tests of one module."
    return make_report_tree(tmp_path_factory.mktemp('report_tree'))
