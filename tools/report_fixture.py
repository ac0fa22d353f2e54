"""Write a small synthetic `runs/` + `results/` tree in the layout the pipeline stages produce.

Used by tests/test_pipeline.py and tests/test_docs_site.py to render the report templates and build the docs site
without training anything. The numbers are made up and say so (`"synthetic": true` in every file).

    python tools/report_fixture.py /tmp/fixture     # then: python tools/render_report.py summary --root /tmp/fixture
"""
from __future__ import annotations
import json, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _png(path:Path, seed:int):
    "A small image with a visible pattern, written with matplotlib (no GUI)."
    import numpy as np
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(seed)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.imshow(rng.random((12, 18)), cmap='viridis'); ax.set_title('synthetic'); ax.axis('off')
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=60); plt.close(fig)


def make_fixture(root:str|Path, # folder to fill (params.yaml, nbs/reports/thesis_numbers.yaml, runs/, results/)
                 repo:str|Path=ROOT, # repository whose params.yaml and thesis_numbers.yaml are copied
                 names:list[str]|None=None) -> Path:
    "Copy params and published numbers from `repo` and write synthetic run/result files for each experiment."
    import yaml
    root, repo = Path(root), Path(repo)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(repo/'params.yaml', root/'params.yaml')
    (root/'nbs'/'reports').mkdir(parents=True, exist_ok=True)
    shutil.copy(repo/'nbs'/'reports'/'thesis_numbers.yaml', root/'nbs'/'reports'/'thesis_numbers.yaml')
    params = yaml.safe_load((repo/'params.yaml').read_text())
    names = names or list(params['experiments'])
    entry = lambda p, s: {'ttsr': {'psnr': p, 'ssim': s, 'n': 4}, 'rgb': {'psnr': p - 0.5, 'ssim': s - 0.01, 'n': 4}}
    for i, n in enumerate(names):
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
        if n == 'exp5_inpaint': continue                                        # evaluation-only experiment
        live = root/'runs'/n/'live'
        for key in ('train/cum_rec', 'train/cum_adv', 'train_step/rec', 'val/psnr', 'val/ssim'):
            f = live/'plots'/'metrics'/f'{key}.tsv'
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(f"timestamp\tstep\t{key.split('/')[-1]}\n" + ''.join(f'0\t{s}\t{20 + s + 0.1 * i}\n' for s in range(3)))
        (live/'metrics.json').write_text(json.dumps({'synthetic': True}))
        (root/'runs'/n/'train_meta.json').write_text(json.dumps(
            {'synthetic': True, 'device': 'cpu', 'vgg_weights_loaded': False, 'batch_size': 4, 'train_time_s': 60.0}))
    return root


if __name__ == '__main__':
    print(make_fixture(sys.argv[1]))
