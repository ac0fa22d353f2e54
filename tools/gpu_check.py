"""Device check for the CUDA paths (run on a machine with a GPU; not part of the test suite).

Checks, each printing one JSON line that the caller saves as the record of the run:
  1. forward of the full-size default model (hard attention) on CUDA in fp32 and with bf16 autocast + channels_last:
     finite, and the autocast output close to fp32;
  2. peak CUDA memory of inference versus output size (the chunked search keeps it ~linear in pixels);
  3. median inference time per image, hard vs soft attention, full-size model (Exp 3, §6.2.3);
  4. a short training run through `ttsr.train.train` on CUDA with AMP (loss finite, checkpoint written, resume works);
  5. the same training launched by torchrun with the NCCL backend (one process per GPU).
Usage: python tools/gpu_check.py [--out DIR] [--skip-ddp]
"""
import argparse, json, os, subprocess, sys, time, tempfile
from pathlib import Path
import torch


def line(**kw):
    print(json.dumps(kw), flush=True)
    return kw


def make_inputs(lr_size, ref_size, device, gen):
    lr = torch.rand(1, 3, lr_size, lr_size, generator=gen) * 2 - 1
    ref = torch.rand(1, 3, ref_size, ref_size, generator=gen) * 2 - 1
    up = lambda x, s: torch.nn.functional.interpolate(x, scale_factor=s, mode='bicubic').clamp(-1, 1)
    lr_sr, ref_sr = up(lr, 4), up(up(ref, 0.25), 4)
    return [t.to(device) for t in (lr, lr_sr, ref, ref_sr)]


def check_forward(device):
    from ttsr.archs.ttsr import TTSR
    torch.manual_seed(0)
    model = TTSR(paper_model('exp1_ttsr')).to(device).eval()
    x = make_inputs(64, 256, device, torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = model(*x).sr.float()
        model_cl = model.to(memory_format=torch.channels_last)
        xc = [t.contiguous(memory_format=torch.channels_last) for t in x]
        with torch.autocast('cuda', dtype=torch.bfloat16):
            amp = model_cl(*xc).sr.float()
    return line(check='forward_amp_channels_last', finite=bool(torch.isfinite(amp).all()),
                max_abs_diff_vs_fp32=float((amp - ref).abs().max()), mean_abs_diff_vs_fp32=float((amp - ref).abs().mean()))


def paper_model(name:str):
    "The paper-profile architecture of experiment `name` in params.yaml, with a random texture extractor."
    import dataclasses
    from ttsr.experiment import load_experiment
    cfg = load_experiment(Path(__file__).resolve().parents[1]/'params.yaml', name, profile='paper').model
    return dataclasses.replace(cfg, init_lte_from_vgg=False)


def check_memory_and_time(device, variants=('exp1_ttsr', 'exp3_soft'), sizes=(64, 128)):
    from ttsr.archs.ttsr import TTSR
    rows = []
    for variant in variants:
        torch.manual_seed(0)
        model = TTSR(paper_model(variant)).to(device).eval()
        for lr_size in sizes:
            x = make_inputs(lr_size, lr_size * 4, device, torch.Generator().manual_seed(1))
            torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(device)
            try:
                with torch.no_grad():
                    model(*x); torch.cuda.synchronize()          # warm-up
                    times = []
                    for _ in range(3):
                        t0 = time.perf_counter(); model(*x); torch.cuda.synchronize()
                        times.append(time.perf_counter() - t0)
                rows.append(line(check='inference', variant=variant, lr=lr_size, out_megapixels=(lr_size * 4) ** 2 / 1e6,
                                 median_s=sorted(times)[1], peak_mib=torch.cuda.max_memory_allocated(device) / 2**20))
            except torch.OutOfMemoryError:
                rows.append(line(check='inference', variant=variant, lr=lr_size, error='out of memory'))
                break
            finally:
                del x
    return rows


def check_training(device, out:Path):
    from ttsr.experiment import load_experiment, tiny_params
    from ttsr.train import train, ToyPairs
    params = tiny_params()
    exp = load_experiment(params, 'exp1_ttsr')
    exp.train.device, exp.train.amp, exp.train.channels_last = 'cuda', True, True
    run = out / 'gpu_train'
    data, val = ToyPairs(n=8, crop_size=64), ToyPairs(n=2, crop_size=64, fixed=True)
    first = train(exp, run, resume=False, max_epochs=1, train_data=data, val_data=val, progress=False)
    second = train(exp, run, resume=True, train_data=data, val_data=val, progress=False)
    return line(check='train_cuda_amp', first=first, resumed=second)


def check_ddp(out:Path):
    script = out / 'ddp_train.py'
    script.write_text(
        "import sys\nfrom ttsr.experiment import load_experiment, tiny_params\nfrom ttsr.train import train, ToyPairs\n"
        "exp = load_experiment(tiny_params(), 'exp1_ttsr')\nexp.train.device = 'cuda'\n"
        "s = train(exp, sys.argv[1], resume=False, train_data=ToyPairs(n=8), val_data=ToyPairs(n=2, fixed=True), progress=False)\n"
        "print('SUMMARY', s)\n")
    n = torch.cuda.device_count()
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={n}',
                        str(script), str(out / 'ddp_run')], capture_output=True, text=True, timeout=600)
    return line(check='torchrun_nccl', nproc=n, returncode=r.returncode, tail=(r.stdout + r.stderr)[-1500:])


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.environ.get('OUT', tempfile.mkdtemp()))
    ap.add_argument('--skip-ddp', action='store_true')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    if not torch.cuda.is_available(): sys.exit("no CUDA device: this script checks the GPU paths")
    dev = torch.device('cuda')
    line(check='device', name=torch.cuda.get_device_name(dev), torch=torch.__version__, cuda=torch.version.cuda)
    for fn in (lambda: check_forward(dev), lambda: check_memory_and_time(dev), lambda: check_training(dev, out),
               (lambda: None) if a.skip_ddp else (lambda: check_ddp(out))):
        try: fn()
        except Exception as e: line(check='error', error=f"{type(e).__name__}: {e}")
