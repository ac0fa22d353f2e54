"""Bad input to a console script ends with exit status 2 and one line on stderr naming the file or setting.

Each case runs the installed console script (ttsr-prepare, ttsr-train, ttsr-evaluate, ttsr-infer) in a subprocess on
one kind of bad input: out-of-range or non-finite config numbers, unreadable / truncated / pickle-carrying weights
files (as `init_from` and as a checkpoint), unknown or unavailable devices, an output path under a regular file, a
huge image, `--source-map` with a soft-attention model (ttsr-infer and ttsr-complete), weights holding NaN, an output
write that fails (a file-size limit), and usage errors of every console script. Inputs are tiny; every refusal but the
failed write happens before any training or inference work. A soft-attention model, valid input, must run.
"""
import errno, os, resource, struct, subprocess, sys, tomllib, zlib
from pathlib import Path
import numpy as np
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


class Payload:
    "Unpickling this would run a shell command; torch.load(weights_only=True) must refuse it."
    def __reduce__(self): return (os.system, ('echo payload ran',))


def _png_header_only(path: Path, w: int, h: int):
    "A PNG whose header announces w x h pixels but holds no pixel data (a huge image that costs nothing to write)."
    chunk = lambda kind, data: struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IEND', b''))


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    from ttsr.archs.ttsr import TTSR, TTSRConfig
    from ttsr.checkpoint import save_checkpoint
    from ttsr.config import merge
    from ttsr.experiment import tiny_params
    from ttsr.infer import write_png
    d = tmp_path_factory.mktemp('bad')
    f = {'dir': d}
    tiny = dict(n_feats=8, num_res_blocks=(1, 1, 1, 1), init_lte_from_vgg=False)
    f['model'] = save_checkpoint(d/'model.pt', TTSR(TTSRConfig(**tiny)))
    f['soft'] = save_checkpoint(d/'soft.pt', TTSR(TTSRConfig(attention='soft', embedding_dim=576, **tiny)))
    ck = torch.load(f['model'], weights_only=True)                        # weights of a diverged training
    f['nan_weight'] = sorted(ck['state_dict'])[0]
    ck['state_dict'][f['nan_weight']].view(-1)[0] = float('nan')
    torch.save(ck, d/'nan.pt'); f['nan'] = d/'nan.pt'
    whole = f['model'].read_bytes()
    (d/'truncated.pt').write_bytes(whole[:len(whole) // 3]); f['truncated'] = d/'truncated.pt'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'hook': Payload()}, d/'payload.pt'); f['payload'] = d/'payload.pt'
    rng = np.random.default_rng(0)
    f['lr'] = write_png(d/'lr.png', rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    f['ref'] = write_png(d/'ref.png', rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    _png_header_only(d/'huge.png', 12000, 12000); f['huge'] = d/'huge.png'
    (d/'a_file').write_text('not a folder'); f['file'] = d/'a_file'

    def params(name, **train):
        "A params file: the tiny experiments with exp1_ttsr's train section overridden."
        p = merge(tiny_params(d/'demo'), {'experiments': {'exp1_ttsr': {'train': train}}})
        (d/name).write_text(yaml.safe_dump(p)); return d/name
    f['params'] = params('ok.yaml')
    f['neg_lr'] = params('neg_lr.yaml', lr=-1e-4)
    f['zero_lr'] = params('zero_lr.yaml', lr=0)
    f['nan_lr'] = params('nan_lr.yaml', lr=float('nan'))
    f['inf_lr'] = params('inf_lr.yaml', lr_dis=float('inf'))
    f['neg_batch'] = params('neg_batch.yaml', batch_size=-2)
    f['cuda'] = params('cuda.yaml', device='cuda')
    f['tpu'] = params('tpu.yaml', device='tpu7')
    p = merge(tiny_params(d/'demo'), {'experiments': {'exp1_ttsr': {'evaluate': {'device': 'abacus'}}}})
    (d/'eval_dev.yaml').write_text(yaml.safe_dump(p)); f['eval_dev'] = d/'eval_dev.yaml'
    (d/'runs'/'exp1_ttsr'/'checkpoints').mkdir(parents=True)                 # a run whose final.pt is a pickle payload
    (d/'runs'/'exp1_ttsr'/'checkpoints'/'final.pt').write_bytes((d/'payload.pt').read_bytes())
    for kind in ('payload', 'truncated'):
        p = merge(tiny_params(d/'demo'), {'experiments': {'exp1_ttsr': {'init_from': str(f[kind])}}})
        (d/f'init_{kind}.yaml').write_text(yaml.safe_dump(p)); f[f'init_{kind}'] = d/f'init_{kind}.yaml'
    return f


def run(script: str, *args, file_size_limit: int|None = None) -> tuple[int, str]:
    "Run a console script; `file_size_limit`: the most bytes it may write to any one file (RLIMIT_FSIZE)."
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}
    limit = None if file_size_limit is None else lambda: resource.setrlimit(
        resource.RLIMIT_FSIZE, (file_size_limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    r = subprocess.run([str(BIN/script), *map(str, args)], capture_output=True, text=True, env=env, timeout=300,
                       cwd=ROOT, preexec_fn=limit)
    return r.returncode, r.stderr


def refused(script: str, args: list, *names: str, file_size_limit: int|None = None):
    "Assert exit 2 and one stderr line that starts with the script's name and contains every string in `names`."
    code, err = run(script, *args, file_size_limit=file_size_limit)
    assert code == 2, f"exit {code}, stderr:\n{err[-3000:]}"
    assert 'Traceback' not in err, err[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err[-3000:]}"
    assert lines[0].startswith(f'{script}: error: '), lines[0]
    for n in names: assert str(n) in lines[0], f"{n!r} not named in: {lines[0]}"
    return lines[0]


# --- config numbers: rejected when the params file loads, naming the key path
@pytest.mark.parametrize('case,key', [('neg_lr', 'exp1_ttsr.train.lr must be > 0'), ('zero_lr', 'exp1_ttsr.train.lr must be > 0'),
                                      ('nan_lr', 'exp1_ttsr.train.lr: expected a finite number'),
                                      ('inf_lr', 'exp1_ttsr.train.lr_dis: expected a finite number'),
                                      ('neg_batch', 'exp1_ttsr.train.batch_size must be >= 1')])
def test_train_config_numbers(files, case, key):
    refused('ttsr-train', ['exp1_ttsr', '--params', files[case]], key)


def test_prepare_config_numbers(files):
    refused('ttsr-prepare', ['--params', files['neg_lr']], 'exp1_ttsr.train.lr must be > 0')


# --- weight files: init_from, a checkpoint given to ttsr-infer (load_model)
@pytest.mark.parametrize('kind,what', [('payload', 'refused, the weights file holds pickled Python objects'),
                                       ('truncated', 'unreadable or truncated weights file')])
def test_train_init_from_bad_weights(files, kind, what):
    refused('ttsr-train', [f'exp1_ttsr', '--params', files[f'init_{kind}'], '--runs-dir', files['dir']/'runs'],
            files[kind], what)


@pytest.mark.parametrize('kind,what', [('payload', 'refused'), ('truncated', 'unreadable or truncated checkpoint')])
def test_infer_bad_checkpoint(files, kind, what):
    refused('ttsr-infer', ['--checkpoint', files[kind], '--lr', files['lr'], '--ref', files['ref'],
                           '-o', files['dir']/'out.png'], files[kind], what)


def test_infer_nan_weights(files):
    out = files['dir']/'nan_out.png'
    refused('ttsr-infer', ['--checkpoint', files['nan'], '--lr', files['lr'], '--ref', files['ref'], '-o', out],
            files['nan'], f"weight {files['nan_weight']} holds NaN")
    assert not out.exists()


def test_evaluate_bad_checkpoint(files):
    ck = files['dir']/'runs'/'exp1_ttsr'/'checkpoints'/'final.pt'
    refused('ttsr-evaluate', ['exp1_ttsr', '--params', files['params'], '--runs-dir', files['dir']/'runs',
                              '--results-dir', files['dir']/'results'], ck, 'refused')


# --- devices
def test_devices(files):
    refused('ttsr-train', ['exp1_ttsr', '--params', files['tpu']], "train.device: unknown device 'tpu7'")
    refused('ttsr-evaluate', ['exp1_ttsr', '--params', files['eval_dev'], '--results-dir', files['dir']/'results'],
            "exp1_ttsr.evaluate.device: unknown device 'abacus'")
    refused('ttsr-infer', ['--checkpoint', files['model'], '--lr', files['lr'], '--ref', files['ref'], '-o',
                           files['dir']/'out.png', '--device', 'quantum'], "--device: unknown device 'quantum'")
    if not torch.cuda.is_available():
        refused('ttsr-infer', ['--checkpoint', files['model'], '--lr', files['lr'], '--ref', files['ref'], '-o',
                               files['dir']/'out.png', '--device', 'cuda:0'], '--device', 'CUDA is not available')
        refused('ttsr-train', ['exp1_ttsr', '--params', files['cuda']], 'train.device', 'CUDA is not available')


# --- output paths under a regular file
def test_output_under_a_file(files):
    f = files['file']
    refused('ttsr-infer', ['--checkpoint', files['model'], '--lr', files['lr'], '--ref', files['ref'],
                           '-o', f/'out.png'], f, 'is a file')
    refused('ttsr-train', ['exp1_ttsr', '--params', files['params'], '--runs-dir', f], f, 'is a file')
    refused('ttsr-evaluate', ['exp1_ttsr', '--params', files['params'], '--results-dir', f], f, 'is a file')


# --- a huge image: refused by --max-pixels from its header (nothing decoded, nothing written)
def test_huge_image(files):
    out = files['dir']/'huge_out.png'
    refused('ttsr-infer', ['--checkpoint', files['model'], '--lr', files['huge'], '--ref', files['ref'], '-o', out],
            files['huge'], '12000x12000', '--max-pixels')
    assert not out.exists()
    refused('ttsr-infer', ['--checkpoint', files['model'], '--lr', files['lr'], '--ref', files['ref'], '-o', out,
                           '--max-pixels', '10'], files['lr'], '--max-pixels')


# --- --source-map with soft attention: refused before any output is written
def test_source_map_soft_attention(files):
    out, smap = files['dir']/'soft_out.png', files['dir']/'soft_map.png'
    refused('ttsr-infer', ['--checkpoint', files['soft'], '--lr', files['lr'], '--ref', files['ref'], '-o', out,
                           '--source-map', smap], smap, 'needs hard attention')
    assert not out.exists() and not smap.exists()


# --- a soft-attention model is valid input: ttsr-infer runs it, whole and tiled (it used to crash in run_network)
@pytest.mark.parametrize('tile', [[], ['--tile', '4']])
def test_soft_attention_infers(files, tile):
    out = files['dir']/f'soft_ok{len(tile)}.png'
    code, err = run('ttsr-infer', '--checkpoint', files['soft'], '--lr', files['lr'], '--ref', files['ref'], '-o', out, *tile)
    assert code == 0 and 'Traceback' not in err, f"exit {code}, stderr:\n{err[-3000:]}"
    assert out.read_bytes()[:4] == b'\x89PNG'


def test_complete_source_map_soft_attention(files):
    out, smap = files['dir']/'soft_done.png', files['dir']/'soft_done_map.png'
    refused('ttsr-complete', [files['lr'], files['ref'], '-o', out, '--zoom', '4', '--checkpoint', files['soft'],
                              '--source-map', smap], smap, 'needs hard attention')
    assert not out.exists() and not smap.exists()


# --- a failed output write (a file-size limit short of the PNG, at its last byte or mid-file): exit 2, one line, the
# output named, no partial PNG (it used to say "wrote" and exit 0)
@pytest.mark.parametrize('where', ['last byte', 'mid-file'])
def test_infer_failed_write(files, where):
    args = ['--checkpoint', files['model'], '--lr', files['lr'], '--ref', files['ref']]
    ok = files['dir']/'write_ok.png'
    code, err = run('ttsr-infer', *args, '-o', ok)
    assert code == 0, err[-3000:]
    size = ok.stat().st_size                                           # the PNG this write makes, measured
    out = files['dir']/where.replace(' ', '_')/'out.png'
    refused('ttsr-infer', [*args, '-o', out], out, os.strerror(errno.EFBIG),
            file_size_limit=size - 1 if where == 'last byte' else size // 2)
    assert os.listdir(out.parent) == []


# --- usage errors: every console script says what is wrong in one line, without argparse's usage lines
SCRIPTS = sorted(tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['scripts'])

@pytest.mark.parametrize('script', SCRIPTS)
def test_usage_error_one_line(script):
    refused(script, ['--no-such-option'])     # unrecognised, or a required argument missing first


def test_missing_argument_one_line():
    refused('ttsr-infer', ['--lr', 'x.png'], 'the following arguments are required: --ref, -o/--out')
