"""Score ttsr-complete on real dual-camera pairs with the real-pair protocol (`ttsr.realpairs`) and write the numbers.

The pairs come from public repositories that commit them; their pixels are never committed here (the repositories
carry no licence), only the numbers. Fetch a repository, point --wide/--tele at its files, and name the pair:

    python benchmarks/real_pairs.py --name dcsr_camerafusion_img20 \
        --wide CameraFusion/test/HR/IMG_20.jpg --tele CameraFusion/test/Ref/x1/IMG_20.jpg \
        --source "Tengfei-Wang/DCSR data/CameraFusion/test/{HR,Ref/x1}/IMG_20.jpg (iPhone 11 Pro, wide 26 mm-eq + tele 52 mm-eq)"

Default flags, every core (as ttsr-complete runs); the JSON goes to results/real_pairs/NAME.json. Other weights:
--checkpoint runs/EXP/checkpoints/final.pt --out-dir DIR. `--table DIR` prints the markdown table of every JSON under DIR
(one row per weights file and pair; a single pair has no confidence interval, and the table says so).
"""
import argparse, datetime, json, os, platform, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def table(folder:Path) -> str:
    "Markdown table of the real-pair JSONs under `folder`: Y-PSNR gains over bicubic per weights file and pair."
    rows = [json.loads(f.read_text()) for f in sorted(folder.rglob('*.json'))]
    by_pair = {}
    for r in rows: by_pair.setdefault(r['pair'], []).append(r)
    f = lambda v: f"{v:+.2f}"
    lines = [f"Y-PSNR gain over bicubic (dB) on {len(by_pair)} real pair(s) (`ttsr.realpairs`); "
             + ("one pair, so no confidence interval: a difference between rows is one measurement, not a finding." if len(by_pair) == 1 else
                "one measurement per pair."), "",
             "| weights | pair | `ttsr-complete` inside / outside | network alone inside / outside | classical fusion with local alignment, inside |",
             "|---|---|---|---|---|"]
    for r in rows:
        g = r['gain_over_bicubic_y_db']
        lines.append(f"| {r['checkpoint']} | {r['pair']} | {f(g['ttsr_complete']['inside'])} / {f(g['ttsr_complete']['outside'])} | "
                     f"{f(g['network']['inside'])} / {f(g['network']['outside'])} | {f(g['fusion_aligned']['inside'])} |")
    return '\n'.join(lines)


def main(argv=None):
    if argv is None: argv = sys.argv[1:]
    if argv[:1] == ['--table']:
        if len(argv) != 2 or not Path(argv[1]).is_dir(): sys.exit("usage: real_pairs.py --table DIR (a folder of real-pair JSONs)")
        print(table(Path(argv[1]))); return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--name', required=True, help="name of the pair (the JSON file's stem)")
    p.add_argument('--wide', type=Path, required=True); p.add_argument('--tele', type=Path, required=True)
    p.add_argument('--source', required=True, help="where the pair comes from (repository, paths, cameras)")
    p.add_argument('--checkpoint', type=Path, default=None, help="default: the shipped model")
    p.add_argument('--threads', type=int, default=None, help="default: every core")
    p.add_argument('--out-dir', type=Path, default=ROOT/'results'/'real_pairs')
    a = p.parse_args(argv)
    import torch, cv2
    from ttsr.photo import read_photo
    from ttsr.realpairs import real_pair_case, score_real_pair
    from ttsr.checkpoint import load_model
    from ttsr.checkpoint import checkpoint_or_default
    from ttsr.io import write_json
    n = a.threads or os.cpu_count()
    torch.set_num_threads(n); cv2.setNumThreads(n)
    ckpt = checkpoint_or_default(a.checkpoint)
    case = real_pair_case(read_photo(a.wide), read_photo(a.tele))
    res = score_real_pair(load_model(ckpt), case, progress=True)
    res = {'pair': a.name, 'source': a.source, 'checkpoint': str(ckpt.relative_to(ROOT) if ckpt.is_relative_to(ROOT) else ckpt),
           'protocol': 'ttsr.realpairs: input = wide shrunk 8x, truth = wide shrunk 2x, tele shrunk 2x; Y-PSNR (ttsr) '
                       'and RGB PSNR inside / outside the footprint (16 px margin)',
           **res, 'date': datetime.date.today().isoformat(), 'machine': f"{platform.machine()}, {os.cpu_count()} cores"}
    write_json(a.out_dir/f'{a.name}.json', res)
    g = res['gain_over_bicubic_y_db']
    print(json.dumps({'seconds': res['seconds_register_and_complete'], 'search': res['search'], **g}, indent=1))


if __name__ == '__main__':
    sys.exit(main())
