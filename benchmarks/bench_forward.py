#!/usr/bin/env python
"""Forward-pass benchmark of the model architectures the experiments in params.yaml train: time and peak memory per input size (a benchmark, not a test).

CPU (default): one thread, eval mode, no_grad, batch 1; each configuration runs in a fresh subprocess so that
`ru_maxrss` is that configuration's own peak resident memory. Sizes grow until the time budget says stop.
CUDA (`--device cuda`): one process, peak memory from `torch.cuda.max_memory_allocated`.

    python benchmarks/bench_forward.py            # full CPU grid, about 15 minutes on one core
    python benchmarks/bench_forward.py --quick    # smoke run, about 1 minute
    python benchmarks/bench_forward.py --device cuda

Writes benchmarks/results/forward.json and forward.md (forward_cuda.* for CUDA); nbs/91_benchmarks.ipynb shows them.
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, resource, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT/'params.yaml'


def variants() -> list[str]:
    "The distinct architectures the thesis's SR-RAW experiments train (params.yaml), each named by its first experiment."
    sys.path.insert(0, str(ROOT))
    from ttsr.experiment import model_variants, experiment_names, load_experiment
    names = [n for n in experiment_names(PARAMS) if load_experiment(PARAMS, n, profile='paper').train_set == 'srraw']
    return list(model_variants(PARAMS, profile='paper', names=names))


def _inputs(lr_size:int, ref_size:int, device):
    "Random [-1,1] inputs of the project's convention: LR, its bicubic 4x, Ref and its down-up version."
    import torch, torch.nn.functional as F
    g = torch.Generator().manual_seed(0)
    lr = torch.rand(1, 3, lr_size, lr_size, generator=g) * 2 - 1
    ref = torch.rand(1, 3, ref_size, ref_size, generator=g) * 2 - 1
    lr_sr = F.interpolate(lr, scale_factor=4, mode='bicubic').clamp(-1, 1)
    ref_sr = F.interpolate(F.interpolate(ref, scale_factor=0.25, mode='bicubic'), scale_factor=4, mode='bicubic').clamp(-1, 1)
    return [t.to(device) for t in (lr, lr_sr, ref, ref_sr)]


def measure(spec:dict, model_cache:dict|None=None) -> dict:
    "Time `spec['runs']` forward passes (after `spec['warmup']`) of one configuration; return spec + figures."
    import dataclasses, warnings, torch
    sys.path.insert(0, str(ROOT))
    from ttsr.archs.ttsr import TTSR
    from ttsr.experiment import load_experiment
    device = torch.device(spec['device'])
    if device.type == 'cpu': torch.set_num_threads(1)
    key = spec['variant']
    if model_cache is not None and key in model_cache: model = model_cache[key]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')   # random LTE init is intended here: speed does not depend on weights
            cfg = load_experiment(PARAMS, spec['variant'], profile='paper').model   # the paper profile's sizes
            model = TTSR(dataclasses.replace(cfg, init_lte_from_vgg=False)).eval().to(device)
        if model_cache is not None: model_cache[key] = model
    model.SearchTransfer.dense = spec['search'] == 'dense'
    inputs = _inputs(spec['lr'], spec['ref'], device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    build_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(); base = torch.cuda.memory_allocated()
    times, cpu_times = [], []
    with torch.no_grad():
        for i in range(spec['warmup'] + spec['runs']):
            sync(); t0, c0 = time.perf_counter(), time.process_time()
            out = model(*inputs)
            sync(); dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if i >= spec['warmup']: times.append(dt); cpu_times.append(dc)
            del out
    res = dict(spec, times_s=[round(t, 4) for t in times], median_s=round(statistics.median(times), 4),
               median_cpu_s=round(statistics.median(cpu_times), 4),
               peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
               build_rss_mib=round(build_rss, 1))
    if device.type == 'cuda':
        res['cuda_peak_mib'] = round((torch.cuda.max_memory_allocated() - base) / 2**20, 1)
        res['cuda_model_mib'] = round(base / 2**20, 1)
    return res


def _qk(spec:dict) -> int:
    "Query x key positions of the relevance search (lv3 grids); the search's cost grows with it."
    return (spec['lr'] ** 2) * (spec['ref'] // 4) ** 2


def _growth(prev:tuple[int, int], spec:dict) -> float:
    "Rough slow-down of a forward pass from sizes `prev` = (lr, ref) to `spec`'s, used to skip what the budget can't afford."
    # about 2/3 of the time grows with pixels (LTE, MainNet), 1/3 with query x key positions (the search),
    # as in the reference's CPU breakdown at 40->160 and 64->256
    pixels = spec['lr'] ** 2 / prev[0] ** 2
    return 0.65 * pixels + 0.35 * _qk(spec) / _qk(dict(lr=prev[0], ref=prev[1]))


def plan(quick:bool, device:str) -> list[dict]:
    "Configurations, smallest first within each group: (variant, LR size, Ref size, search, warm-up, runs)."
    VARIANTS = variants()
    base, soft, small = VARIANTS[0], 'exp3_soft', 'exp2_emb576'     # the paper's model, soft attention, embedding 576
    spec = lambda v, lr, search='chunked', warmup=1, runs=3, group='variants': dict(
        group=group, variant=v, lr=lr, out=4 * lr, ref=4 * lr, search=search, warmup=warmup, runs=runs, device=device)
    if quick:
        return [spec(base, 40, runs=1), spec(soft, 40, runs=1),
                spec(base, 40, 'dense', runs=1, group='dense_vs_chunked')]
    if device == 'cuda':
        specs = [spec(v, lr, warmup=2, runs=5) for lr in (40, 64, 128) for v in VARIANTS]
        specs += [spec(v, 256, warmup=1, runs=3) for v in VARIANTS]
        specs += [spec(base, lr, s, warmup=1, runs=3, group='dense_vs_chunked') for lr in (64, 128, 256) for s in ('dense', 'chunked')]
        specs += [spec(v, 512, warmup=1, runs=2, group='large') for v in VARIANTS]
        return specs
    # most informative first, so that a busy machine that exhausts the budget still covers every question once
    specs = [spec(v, 40, runs=2) for v in VARIANTS]
    specs += [spec(base, lr, s, runs=2, group='dense_vs_chunked') for lr in (40, 64) for s in ('dense', 'chunked')]
    specs += [spec(v, 128, warmup=0, runs=1, group='large') for v in (small, base)]
    specs += [spec(v, 64, runs=2) for v in VARIANTS]
    specs += [spec(v, 256, warmup=0, runs=1, group='large') for v in (small, base)]
    return specs


def _run_subprocess(spec:dict, timeout:float) -> dict:
    cmd = [sys.executable, __file__, '--one', json.dumps(spec)]
    try: p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired: return dict(spec, error=f'stopped after {timeout:.0f} s (time budget)')
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ['(no output)'])[-1]
        return dict(spec, error=f'exit code {p.returncode}: {tail}'[:300])
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_all(specs:list[dict], budget_s:float, device:str) -> list[dict]:
    "Run the plan within `budget_s`, skipping a configuration whose predicted time exceeds what is left."
    start, results, last = time.perf_counter(), [], {}
    cache = {} if device == 'cuda' else None
    for spec in specs:
        left = budget_s - (time.perf_counter() - start)
        prev = last.get((spec['variant'], spec['search']))
        predicted = None if prev is None else prev[2] * _growth(prev[:2], spec) * (spec['warmup'] + spec['runs'])
        if left <= 0 or (predicted is not None and predicted > left):
            why = (f'skipped: predicted {predicted:.0f} s > {max(left, 0):.0f} s left of the budget' if predicted
                   else 'skipped: time budget used up')
            results.append(dict(spec, error=why)); print(why, spec, flush=True); continue
        t0 = time.perf_counter()
        if device == 'cuda':
            import torch
            try: res = measure(spec, cache)
            except torch.OutOfMemoryError as e:
                res = dict(spec, error=f'CUDA out of memory: {str(e).splitlines()[0][:200]}')
                torch.cuda.empty_cache()
        else: res = _run_subprocess(spec, timeout=max(left, 1))
        res['wall_s'] = round(time.perf_counter() - t0, 1)
        if 'median_s' in res: last[(spec['variant'], spec['search'])] = (spec['lr'], spec['ref'], res['median_s'])
        results.append(res)
        print(json.dumps(res), flush=True)
    return results


def environment(device:str) -> dict:
    import torch
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                if l.startswith('model name')), platform.processor()) if Path('/proc/cpuinfo').exists() else platform.processor()
    try: commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except OSError: commit = ''
    env = dict(date=datetime.datetime.now().isoformat(timespec='seconds'), torch=torch.__version__, python=platform.python_version(),
               cpu=cpu, cpu_count=os.cpu_count(), threads=1 if device == 'cpu' else torch.get_num_threads(),
               load_average=[round(x, 2) for x in os.getloadavg()], git_commit=commit, device=device)
    if device == 'cuda': env.update(gpu=torch.cuda.get_device_name(0), tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    return env


COLUMNS = ('group', 'variant', 'lr', 'out', 'ref', 'search', 'runs', 'median_s', 'median_cpu_s', 'peak_rss_mib', 'build_rss_mib', 'cuda_peak_mib')

def to_markdown(report:dict) -> str:
    "A Markdown table of the results, one row per configuration."
    env = report['environment']
    skip = ('peak_rss_mib', 'build_rss_mib', 'median_cpu_s') if env['device'] == 'cuda' else ()   # process RSS says little on a GPU
    cols = [c for c in COLUMNS if c not in skip and any(c in r for r in report['results'])] + ['note']
    lines = [f"# Forward-pass benchmark ({env['device']})", '',
             f"Command: `{report['command']}`  ", f"Date {env['date']}, torch {env['torch']}, {env.get('gpu', env['cpu'])}, "
             f"threads {env['threads']}, load average at start {env['load_average']}, commit {env['git_commit']}.", '',
             'LR and Ref are square (`lr` x `lr`, `ref` x `ref`); `out` = 4 x `lr`. Times are medians over `runs` forward '
             'passes after warm-up (`median_s` wall clock; `median_cpu_s` CPU time of the process, less sensitive to other '
             'jobs on a shared machine); memory is the process peak (CPU) or the peak allocated during the forward (CUDA).', '',
             '| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    for r in report['results']:
        lines.append('| ' + ' | '.join(str(r.get(c, r.get('error', ''))) if c == 'note' else str(r.get(c, '')) for c in cols) + ' |')
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='a few small configurations only (smoke run)')
    ap.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
    ap.add_argument('--budget-min', type=float, default=15.0, help='total time budget in minutes')
    ap.add_argument('--out', type=Path, default=ROOT/'benchmarks'/'results', help='folder for forward[_cuda].json/.md')
    ap.add_argument('--render', type=Path, help='only rewrite the .md next to this existing results .json')
    ap.add_argument('--one', help=argparse.SUPPRESS)   # internal: measure one JSON spec in this (fresh) process
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(json.loads(args.one)))); return
    if args.render:
        args.render.with_suffix('.md').write_text(to_markdown(json.loads(args.render.read_text()))); return
    specs = plan(args.quick, args.device)
    env = environment(args.device)
    results = run_all(specs, args.budget_min * 60, args.device)
    report = dict(command='python benchmarks/bench_forward.py' + ' --quick' * args.quick +
                  (' --device cuda' if args.device == 'cuda' else '') +
                  (f' --budget-min {args.budget_min:g}' if args.budget_min != 15.0 else ''),
                  environment=env, results=results)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = 'forward' if args.device == 'cpu' else 'forward_cuda'
    from ttsr.io import write_text
    for suffix, text in (('.json', json.dumps(report, indent=1)), ('.md', to_markdown(report))):
        write_text(args.out/f'{stem}{suffix}', text)
    print(f"wrote {args.out/stem}.json and .md")


if __name__ == '__main__':
    main()
