"""DDP training under torchrun with 2 CPU processes (gloo): data is sharded, not duplicated, and both ranks end
with identical generator and discriminator weights.

The child script wraps the toy dataset to record which indices each rank loads, and keeps references to the model
and loss built inside `ttsr.train.train` so each rank can save what it ended with.
"""
import json, os, socket, subprocess, sys, textwrap
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import json, os, sys
    import torch
    torch.set_num_threads(1)
    import ttsr.train as T
    from ttsr.config import merge
    from ttsr.experiment import load_experiment, tiny_params
    run_dir, out = sys.argv[1], sys.argv[2]
    rank = int(os.environ['RANK'])
    built = {}
    class RecordingTTSR(T.TTSR):
        def __init__(self, *a, **k): super().__init__(*a, **k); built['model'] = self
    class RecordingLoss(T.TTSRLoss):
        def __init__(self, *a, **k): super().__init__(*a, **k); built['loss'] = self
    T.TTSR, T.TTSRLoss = RecordingTTSR, RecordingLoss
    class RecordingPairs(T.ToyPairs):  # records the loads of the epochs (after set_epoch), not setup's size probe
        seen, started = [], False
        def set_epoch(self, epoch): super().set_epoch(epoch); self.started = True
        def __getitem__(self, i):
            if self.started: self.seen.append([self.epoch, i])
            return super().__getitem__(i)
    train = {'warmup_epochs': 1, 'epochs': 1, 'batch_size': 4, 'steps_per_epoch': None, 'num_workers': 0,
             'max_val_samples': 1, 'log_every': 1, 'device': 'cpu'}
    params = merge(tiny_params(), {'experiments': {'exp1_ttsr': {
        'train': train, 'loss': {'rec_w': 1.0, 'per_w': 0.0, 'tpl_w': 1e-2, 'adv_w': 1e-3}}}})
    data = RecordingPairs(8, 64, seed=3, masked=True)
    summary = T.train(load_experiment(params, 'exp1_ttsr'), run_dir, train_data=data,
                      val_data=T.ToyPairs(1, 64, seed=4, fixed=True), progress=False)
    torch.save({'model': built['model'].state_dict(), 'discriminator': built['loss'].discriminator.state_dict()},
               f'{out}/rank{rank}.pt')
    with open(f'{out}/rank{rank}.json', 'w') as f: json.dump({'seen': data.seen, 'summary': summary}, f)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def test_ddp_two_cpu_processes(tmp_path):
    script = tmp_path / 'child.py'; script.write_text(CHILD)
    run_dir, out = tmp_path / 'run', tmp_path / 'out'; out.mkdir()
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--nnodes', '1',
           '--master_addr', '127.0.0.1', '--master_port', str(_free_port()), str(script), str(run_dir), str(out)]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]

    w0, w1 = (torch.load(out / f'rank{r}.pt', weights_only=True) for r in (0, 1))
    for part in ('model', 'discriminator'):
        different = [k for k in w0[part] if not torch.equal(w0[part][k], w1[part][k])]
        assert not different, f"{part}: ranks disagree on {different[:3]}"
    start = torch.load(run_dir / 'checkpoints' / 'final.pt', weights_only=True)['state_dict']
    assert all(torch.equal(start[k], w0['model'][k]) for k in start)   # rank 0 wrote its final weights

    seen = [json.loads((out / f'rank{r}.json').read_text())['seen'] for r in (0, 1)]
    for epoch in (0, 1):
        s0, s1 = ([i for e, i in s if e == epoch] for s in seen)
        assert len(s0) == len(s1) == 4                            # 8 samples, 2 ranks, nothing duplicated
        assert set(s0).isdisjoint(s1), f"epoch {epoch}: ranks share samples {set(s0) & set(s1)}"
        assert sorted(s0 + s1) == list(range(8)), f"epoch {epoch}: the ranks do not cover the epoch"

    summary = json.loads((out / 'rank0.json').read_text())['summary']
    assert summary['world_size'] == 2 and summary['finished']
    meta = json.loads((run_dir / 'train_meta.json').read_text())
    assert (meta['world_size'], meta['global_batch_size'], meta['steps_per_epoch']) == (2, 4, 2)
    assert not list(run_dir.glob('**/*.tmp*'))
