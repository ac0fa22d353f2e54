"""A training run killed with SIGKILL and resumed ends with exactly the weights of an uninterrupted run.

Two interruptions are checked against one uninterrupted reference run (2 epochs of 2 steps: a warm-up epoch, then
all losses including WGAN-GP, whose random interpolation weights make the RNG state matter):
- killed in epoch 1 with per-epoch checkpoints only: the resume redoes epoch 1 from its start;
- killed at the same point with a checkpoint after every step: the resume continues mid-epoch.
The child process SIGKILLs itself from inside the loss computation, so the kill point is deterministic; the
reference and the resumes run inside the test process (one thread, like the child).
"""
import json, os, signal, subprocess, sys, textwrap
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import json, os, signal, sys
    import torch
    torch.set_num_threads(1)
    import ttsr.train as T
    import ttsr.loop as L
    from ttsr.config import merge
    from ttsr.experiment import load_experiment, tiny_params
    run_dir, overrides, kill_at = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    if kill_at:
        calls, original = [0], L._generator_loss
        def counting_loss(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at: os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        L._generator_loss = counting_loss
    params = merge(tiny_params(), {'experiments': {'exp1_ttsr': overrides}})
    exp = load_experiment(params, 'exp1_ttsr')
    T.train(exp, run_dir, train_data=T.ToyPairs(8, 64, seed=1, masked=True),
            val_data=T.ToyPairs(2, 64, seed=2, fixed=True), progress=False)
""")

TRAIN = {'warmup_epochs': 1, 'epochs': 1, 'batch_size': 2, 'steps_per_epoch': 2, 'num_workers': 0,
         'max_val_samples': 2, 'log_every': 1, 'device': 'cpu'}
LOSS = {'rec_w': 1.0, 'per_w': 0.0, 'tpl_w': 1e-2, 'adv_w': 1e-3}
CASES = {  # name: (train overrides, generator-loss call that dies, (epoch, step in epoch) of the surviving last.pt)
    'epoch-boundary': ({}, 4, (1, 0)),                            # dies in step 1 of epoch 1: epoch 1 is redone
    'mid-epoch': ({'checkpoint_every_steps': 1}, 4, (1, 1)),      # same point, resumes after step 0 of epoch 1
}


def _overrides(**train):
    return {'train': {**TRAIN, **train}, 'loss': LOSS}


def _spawn(run_dir: Path, overrides: dict, kill_at: int) -> subprocess.Popen:
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    return subprocess.Popen([sys.executable, '-c', CHILD, str(run_dir), json.dumps(overrides), str(kill_at)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _train_here(run_dir: Path, overrides: dict):
    "The same run in this process (no kill)."
    import ttsr.train as T
    from ttsr.config import merge
    from ttsr.experiment import load_experiment, tiny_params
    torch.set_num_threads(1)
    exp = load_experiment(merge(tiny_params(), {'experiments': {'exp1_ttsr': overrides}}), 'exp1_ttsr')
    return T.train(exp, run_dir, train_data=T.ToyPairs(8, 64, seed=1, masked=True),
                   val_data=T.ToyPairs(2, 64, seed=2, fixed=True), progress=False)


def _weights(run_dir: Path) -> dict:
    final = torch.load(run_dir / 'checkpoints' / 'final.pt', weights_only=True)
    last = torch.load(run_dir / 'checkpoints' / 'last.pt', weights_only=True)
    return {**{f'model.{k}': v for k, v in final['state_dict'].items()},
            **{f'discriminator.{k}': v for k, v in last['discriminator'].items()},
            **{f'adam.{i}.{k}': v for i, s in last['optimizer']['state'].items() for k, v in s.items()}}


def test_kill_and_resume_is_exact(tmp_path):
    # the two runs that get killed start first and run side by side; the reference trains meanwhile, in-process
    procs = {name: _spawn(tmp_path / name, _overrides(**train), kill_at) for name, (train, kill_at, _) in CASES.items()}
    _train_here(tmp_path / 'reference', _overrides())
    reference = _weights(tmp_path / 'reference')
    ref_meta = json.loads((tmp_path / 'reference' / 'train_meta.json').read_text())
    for name, (train, _, (epoch, step)) in CASES.items():
        proc, run_dir = procs[name], tmp_path / name
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, f"{name}: expected SIGKILL, got {proc.returncode}: {err[-3000:]}"
        last = torch.load(run_dir / 'checkpoints' / 'last.pt', weights_only=True)
        assert (last['state']['epoch'], last['state']['step_in_epoch']) == (epoch, step), name
        assert not (run_dir / 'checkpoints' / 'final.pt').exists()

        summary = _train_here(run_dir, _overrides(**train))
        assert summary['resumed'] and summary['finished']
        resumed = _weights(run_dir)
        assert resumed.keys() == reference.keys()
        different = [k for k in reference if not torch.equal(reference[k], resumed[k])]
        assert not different, f"{name}: {len(different)} tensors differ after resuming, e.g. {different[:3]}"

        meta = json.loads((run_dir / 'train_meta.json').read_text())
        assert meta['resumes'] == 1 and meta['global_step'] == 4
        assert [v['psnr'] for v in meta['val']] == [v['psnr'] for v in ref_meta['val']]
        # each step appears once in the per-step curve: the resume dropped the rows it was about to repeat
        header, *rows = (run_dir / 'live' / 'plots' / 'metrics' / 'train_step' / 'rec.tsv').read_text().splitlines()
        col = header.split('\t').index('step')
        assert [int(r.split('\t')[col]) for r in rows] == [1, 2, 3, 4], name
